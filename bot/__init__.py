"""redheart: Little Red Heart product-rating rounds on Telegram."""

__version__ = "0.1.0"

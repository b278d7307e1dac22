"""qualcode: qualitative coding of Norwegian child-welfare prevention plans and interviews."""

__version__ = "0.1.0"

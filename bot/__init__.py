"""paperbot: keeps an awesome list of research papers current from arXiv."""

__version__ = "0.1.0"

"""The file manager: domain, services and AWS adapters behind the Chalice app."""

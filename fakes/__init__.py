"""Local stand-ins for the outside services charbridge talks to."""

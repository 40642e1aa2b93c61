"""Files run inside the package's own interpreter (Python, Node), not the analyzer's."""

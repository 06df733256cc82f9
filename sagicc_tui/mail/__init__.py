"""Message parsing: raw bytes to a lossless record, decoding and classification."""

"""A reseller's own brand: what its customers see instead of "Frontdesk"."""

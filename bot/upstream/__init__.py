"""Character backends ("upstreams") behind one interface the router and service use."""

"""The gudang before packing: what a kabupaten must receive, what its suppliers deliver, the
sortir-lipat, replacements and destruction of damaged sheets, and the kotak put together."""

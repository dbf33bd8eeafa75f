package main

// These commands are being built in this session; each moves to its own file.

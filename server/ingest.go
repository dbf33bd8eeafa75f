package server

// ingestRoutes is the Segment-compatible ingestion API's table of contents.
func (s *Server) ingestRoutes() {
}

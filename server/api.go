package server

// apiRoutes is the REST API's table of contents.
func (s *Server) apiRoutes() {
}

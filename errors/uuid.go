package errors

// NewUUID returns a random RFC 4122 version 4 UUID: the uuid a surface with
// its own error format (Navixy) logs and sends with a server error, as Write
// does for easydb's.
func NewUUID() string { return newUUID() }

package web

// DecodeValue decodes one JSON document exactly as a request body is decoded
// (numbers as json.Number, a number no float64 holds refused with its path
// below path), for callers that hold the bytes outside a request: groupctl's
// --dry-run checks its write items with the server's own decoders.
func DecodeValue(b []byte, path string) (any, error) {
	var v any
	err := decodeValue(b, &v, path)
	return v, err
}

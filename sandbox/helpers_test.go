package sandbox_test

import (
	"bytes"
	"compress/gzip"
	"encoding/gob"
	"io"
)

// gobEncoder returns a function encoding values on ONE gob stream (to build
// a frame that lacks its type definition).
func gobEncoder(w io.Writer) func(v any) {
	enc := gob.NewEncoder(w)
	return func(v any) {
		if err := enc.Encode(v); err != nil {
			panic(err)
		}
	}
}

func gzipBytes(b []byte) []byte {
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(b)
	zw.Close()
	return z.Bytes()
}

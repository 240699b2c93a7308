package wire

import (
	"bytes"
	"testing"
)

// Each length class gets its shortest encoding, big-endian, with the mask
// bit only when asked.
func TestAppendFrameHeader(t *testing.T) {
	for _, tc := range []struct {
		op     byte
		n      int
		masked bool
		want   []byte
	}{
		{OpText, 0, false, []byte{0x81, 0}},
		{OpBinary, 125, false, []byte{0x82, 125}},
		{OpBinary, 126, false, []byte{0x82, 126, 0, 126}},
		{OpBinary, 0xffff, true, []byte{0x82, 0x80 | 126, 0xff, 0xff}},
		{OpBinary, 0x10000, false, []byte{0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0}},
		{OpPong, 5, true, []byte{0x8a, 0x80 | 5}},
	} {
		if got := AppendFrameHeader([]byte{9}, tc.op, tc.n, tc.masked); !bytes.Equal(got, append([]byte{9}, tc.want...)) {
			t.Errorf("AppendFrameHeader(%d, %d, %v) = % x, want % x", tc.op, tc.n, tc.masked, got[1:], tc.want)
		}
	}
}

package wire

import (
	"bytes"
	"testing"
)

// DecodeRespView gives the fields DecodeResp gives, with the strings as
// bytes, for every encoding, on first sight of a frame's type definitions
// (decoded by encoding/gob) and afterwards (the hand parser), and for
// frames a fresh gob.Encoder wrote.
func TestDecodeRespViewMatchesDecodeResp(t *testing.T) {
	for _, o := range allOptions() {
		t.Run(optName(o), func(t *testing.T) {
			enc := NewEncoder(o)
			dr, dv := NewDecoder(o), NewDecoder(o)
			for _, want := range respValues(t) {
				for pass := range 3 {
					f, err := enc.EncodeResp(want)
					if err != nil {
						t.Fatal(err)
					}
					if pass == 2 && o.Encoding == Gob && !o.Gzip {
						f = freshGob(t, want)
					}
					var r Resp
					var v RespView
					errR := dr.DecodeResp(f, &r)
					errV := dv.DecodeRespView(f, &v)
					if (errR == nil) != (errV == nil) {
						t.Fatalf("%+v: DecodeResp: %v, DecodeRespView: %v", want, errR, errV)
					}
					if v.ReqIdentifier != r.ReqIdentifier || v.ErrCode != r.ErrCode ||
						string(v.MsgIncr) != r.MsgIncr || string(v.OperationID) != r.OperationID ||
						string(v.ErrMsg) != r.ErrMsg || !bytes.Equal(v.Data, r.Data) {
						t.Fatalf("pass %d: view %+v, resp %+v", pass, v, r)
					}
				}
			}
		})
	}
}

// A malformed frame is an error for DecodeRespView as for DecodeResp, and
// leaves the view zero.
func TestDecodeRespViewMalformed(t *testing.T) {
	for _, o := range allOptions() {
		d := NewDecoder(o)
		v := RespView{ReqIdentifier: 7, MsgIncr: []byte("x")}
		if err := d.DecodeRespView([]byte{0x01, 0x02, 0x03}, &v); err == nil {
			t.Errorf("%s: no error for a 3-byte frame", optName(o))
		}
		if v.ReqIdentifier != 0 || v.MsgIncr != nil {
			t.Errorf("%s: view not zeroed after an error: %+v", optName(o), v)
		}
	}
}

package wire

import (
	"bytes"
	"compress/gzip"
	"testing"
)

// The fixture is a ~600-byte gob push frame: PushMessages with one group
// text MsgData (the fixture of docs/performance.md), envelope only. Besides ns/op the
// benchmarks report cpu-ns/op (process CPU time per op), which stays
// meaningful when other processes load the shared cores.

func BenchmarkDecodeResp(b *testing.B) {
	for _, o := range allOptions() {
		b.Run(optName(o), func(b *testing.B) {
			f, err := NewEncoder(o).EncodeResp(pushResp(b))
			if err != nil {
				b.Fatal(err)
			}
			f = bytes.Clone(f)
			d := NewDecoder(Options{Encoding: o.Encoding, Gzip: o.Gzip, MaxFrame: MaxClientInbound})
			var r Resp
			b.SetBytes(int64(len(f)))
			b.ReportAllocs()
			cpu := startCPU()
			for b.Loop() {
				if err := d.DecodeResp(f, &r); err != nil {
					b.Fatal(err)
				}
			}
			cpu.report(b)
		})
	}
}

func BenchmarkEncodeReq(b *testing.B) {
	for _, o := range allOptions() {
		b.Run(optName(o), func(b *testing.B) {
			o.MaxFrame = MaxServerInbound
			e := NewEncoder(o)
			r := sendReq(b)
			f, err := e.EncodeReq(r)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(f)))
			b.ReportAllocs()
			cpu := startCPU()
			for b.Loop() {
				if _, err := e.EncodeReq(r); err != nil {
					b.Fatal(err)
				}
			}
			cpu.report(b)
		})
	}
}

// BenchmarkGobDecodeFresh is the baseline the fast path replaces: a fresh
// gob.Decoder per frame.
func BenchmarkGobDecodeFresh(b *testing.B) {
	f, err := NewEncoder(Options{}).EncodeResp(pushResp(b))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	cpu := startCPU()
	for b.Loop() {
		var r Resp
		if err := gobDecode(f, &r); err != nil {
			b.Fatal(err)
		}
	}
	cpu.report(b)
}

// BenchmarkGzipLevel decides gzipLevel: the cost and the size of one
// outgoing ~600-byte frame, stdlib compress/gzip, reused Writer.
func BenchmarkGzipLevel(b *testing.B) {
	f, err := NewEncoder(Options{}).EncodeReq(sendReq(b))
	if err != nil {
		b.Fatal(err)
	}
	f = bytes.Clone(f)
	for _, lv := range []struct {
		name  string
		level int
	}{{"default", gzip.DefaultCompression}, {"bestspeed", gzip.BestSpeed}, {"huffmanonly", gzip.HuffmanOnly}} {
		b.Run(lv.name, func(b *testing.B) {
			var buf bytes.Buffer
			zw, err := gzip.NewWriterLevel(&buf, lv.level)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			cpu := startCPU()
			for b.Loop() {
				buf.Reset()
				zw.Reset(&buf)
				zw.Write(f)
				zw.Close()
			}
			cpu.report(b)
			b.ReportMetric(float64(buf.Len()), "out-bytes")
			b.ReportMetric(float64(len(f)), "in-bytes")
		})
	}
	b.Run("fixedhuffman", func(b *testing.B) {
		var z fastGzip
		var out []byte
		b.ReportAllocs()
		cpu := startCPU()
		for b.Loop() {
			out = z.appendGzip(out[:0], f)
		}
		cpu.report(b)
		b.ReportMetric(float64(len(out)), "out-bytes")
		b.ReportMetric(float64(len(f)), "in-bytes")
	})
}

// BenchmarkGunzipLevel is the receiver's side of BenchmarkGzipLevel: the
// cost of inflating one ~600-byte frame compressed at each level.
func BenchmarkGunzipLevel(b *testing.B) {
	f, err := NewEncoder(Options{}).EncodeResp(pushResp(b))
	if err != nil {
		b.Fatal(err)
	}
	f = bytes.Clone(f)
	for _, lv := range []struct {
		name  string
		level int
	}{{"bestspeed", 0}, {"fixedhuffman", GzipFixedHuffman}} {
		b.Run(lv.name, func(b *testing.B) {
			e := NewEncoder(Options{Gzip: true, GzipLevel: lv.level})
			frame, err := e.EncodeResp(pushResp(b))
			if err != nil {
				b.Fatal(err)
			}
			frame = bytes.Clone(frame)
			d := NewDecoder(Options{Gzip: true})
			var r Resp
			b.ReportAllocs()
			cpu := startCPU()
			for b.Loop() {
				if err := d.DecodeResp(frame, &r); err != nil {
					b.Fatal(err)
				}
			}
			cpu.report(b)
			b.ReportMetric(float64(len(frame)), "frame-bytes")
		})
	}
}

package redact

import (
	"bytes"
	"fmt"
	"io"
	"testing"
)

// benchText is 1 MiB of terraform-like plan output in which one line in
// a hundred holds a secret.
func benchText(secrets []string) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < 1<<20; i++ {
		if i%100 == 0 {
			fmt.Fprintf(&b, "  + conn_str = \"postgres://tf:%s@db/state\"\n", secrets[i/100%len(secrets)])
			continue
		}
		fmt.Fprintf(&b, "  # terraform_data.item[%d] will be created\n  + resource \"terraform_data\" \"item\" {\n", i)
	}
	return b.Bytes()
}

// BenchmarkWriter masks 1 MiB written in 4 KiB pieces with ten secrets
// registered (their encoded forms included). The floor is what any
// writer in its place must do: copy the same pieces into a buffer. Every
// byte is looked at, so the floor (a memmove) is far ahead; the target is
// over 200 MB/s, a thousand times the rate at which terraform prints.
func BenchmarkWriter(b *testing.B) {
	secrets := make([]string, 10)
	for i := range secrets {
		secrets[i] = fmt.Sprintf("s3cr3t/%d pass@word", i)
	}
	text := benchText(secrets)
	var set Set
	set.Add(secrets...)
	write := func(w io.Writer) {
		for i := 0; i < len(text); i += 4096 {
			w.Write(text[i:min(i+4096, len(text))])
		}
	}
	b.Run("floor", func(b *testing.B) {
		b.SetBytes(int64(len(text)))
		var buf bytes.Buffer
		for b.Loop() {
			buf.Reset()
			write(&buf)
		}
	})
	b.Run("redact", func(b *testing.B) {
		b.SetBytes(int64(len(text)))
		var buf bytes.Buffer
		for b.Loop() {
			buf.Reset()
			w := NewWriter(&set, &buf)
			write(w)
			w.Flush()
		}
	})
}

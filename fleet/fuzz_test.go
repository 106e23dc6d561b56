package fleet

import "testing"

// FuzzDecodePriorDoc: a prior record read back from a store is untrusted.
func FuzzDecodePriorDoc(f *testing.F) {
	f.Add(`{"lrokit_priors":1,"kind":"aws cloudformation.StackCreateComplete","samples":[312.5,290,301]}`)
	f.Add(`{"lrokit_priors":1,"kind":"k","samples":[-1,"x"]}`)
	f.Add(`{"lrokit_priors":99}`)
	f.Fuzz(func(t *testing.T, doc string) {
		d, err := decodePriorDoc(doc, 8)
		if err != nil {
			return
		}
		if len(d.Samples) > 8 {
			t.Fatalf("kept %d samples, more than 8", len(d.Samples))
		}
		for _, s := range d.Samples {
			if s < 0 || s != s {
				t.Fatalf("kept a bad sample %v", s)
			}
		}
		_ = quantile(d.Samples, 0.1, 1)
	})
}

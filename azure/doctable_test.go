package azure_test

import (
	"os"
	"strings"
	"testing"

	"github.com/lrokit/lrokit/internal/httplro"
)

// TestDocFinalTable keeps doc.go's copy of the final-result table in step
// with the table the engine runs on.
func TestDocFinalTable(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimRight(httplro.FinalTable(), "\n"), "\n") {
		if !strings.Contains(string(doc), "//\t"+strings.TrimRight(line, " ")+"\n") {
			t.Errorf("doc.go lacks the final-result table line %q: regenerate it from httplro.FinalTable", line)
		}
	}
}

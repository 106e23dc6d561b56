package push

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

func header(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

const (
	aks   = "/subscriptions/S/resourceGroups/RG/providers/Microsoft.ContainerService/managedClusters/aks1"
	vm    = "/subscriptions/S/resourceGroups/RG/providers/Microsoft.Compute/virtualMachines/vm1"
	stack = "arn:aws:cloudformation:eu-west-1:111122223333:stack/web/f1a2b3c4-0000-0000-0000-000000000000"
	ec2   = "arn:aws:ec2:eu-west-1:111122223333:instance/i-0abcd1234ef567890"
	gceOp = "operation-1700000000000-abc"
)

func TestDecode_EachFormat(t *testing.T) {
	jsonCT := header("Content-Type", "application/json")
	tests := []struct {
		name   string
		h      http.Header
		body   []byte
		format string
		refs   []string
	}{
		{"REST guidelines notification", jsonCT, fixture(t, "rest.json"), FormatREST, []string{"https://api.contoso.com/v1.0/databases/db1"}},
		{"Event Grid schema", jsonCT, fixture(t, "eventgrid.json"), FormatEventGrid, []string{aks}},
		{"CloudEvents structured", header("Content-Type", "application/cloudevents+json; charset=utf-8"), fixture(t, "cloudevent-structured.json"), FormatCloudEvents, []string{vm}},
		{"CloudEvents structured, sniffed", jsonCT, fixture(t, "cloudevent-structured.json"), FormatCloudEvents, []string{vm}},
		{"CloudEvents batch", header("Content-Type", "application/cloudevents-batch+json"), []byte("[" + string(fixture(t, "cloudevent-structured.json")) + "]"), FormatCloudEventsBatch, []string{vm}},
		{"CloudEvents binary, audit log data (Eventarc)", header("Ce-Specversion", "1.0", "Ce-Type", "google.cloud.audit.log.v1.written", "Ce-Id", "1", "Ce-Source", "//cloudaudit.googleapis.com/projects/p/logs/activity",
			"Ce-Subject", "compute.googleapis.com/projects/p/zones/europe-west1-b/instances/vm-1", "Content-Type", "application/json"), fixture(t, "auditlog.json"), FormatCloudEventsBinary,
			[]string{"compute.googleapis.com/projects/p/zones/europe-west1-b/instances/vm-1", "projects/p/zones/europe-west1-b/instances/vm-1", gceOp,
				"https://www.googleapis.com/compute/v1/projects/p/zones/europe-west1-b/operations/" + gceOp}},
		{"CloudEvents binary, opaque data", header("Ce-Specversion", "1.0", "Ce-Subject", "x/y", "Content-Type", "application/octet-stream"), []byte{0, 1, 2}, FormatCloudEventsBinary, []string{"x/y"}},
		{"EventBridge CloudFormation", nil, fixture(t, "eventbridge-cloudformation.json"), FormatEventBridge, []string{stack}},
		{"EventBridge EC2", nil, fixture(t, "eventbridge-ec2.json"), FormatEventBridge, []string{ec2, "i-0abcd1234ef567890"}},
		{"SNS wrapping EventBridge", nil, fixture(t, "sns-eventbridge.json"), FormatSNS, []string{ec2, "i-0abcd1234ef567890"}},
		{"Pub/Sub push wrapping an audit log", jsonCT, fixture(t, "pubsub-push-auditlog.json"), FormatPubSubPush,
			[]string{"projects/p/zones/europe-west1-b/instances/vm-1", gceOp, "https://www.googleapis.com/compute/v1/projects/p/zones/europe-west1-b/operations/" + gceOp}},
		{"audit log", nil, fixture(t, "auditlog.json"), FormatAuditLog,
			[]string{"projects/p/zones/europe-west1-b/instances/vm-1", gceOp, "https://www.googleapis.com/compute/v1/projects/p/zones/europe-west1-b/operations/" + gceOp}},
		{"an event naming nothing", jsonCT, []byte(`{"specversion":"1.0","id":"1","type":"t","source":"s"}`), FormatCloudEvents, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Decode(tt.h, tt.body)
			require.NoError(t, err)
			assert.Equal(t, tt.format, d.Format)
			assert.Equal(t, tt.refs, d.Refs)
			assert.Empty(t, d.ValidationCode)
		})
	}
}

func TestDecode_EventGridValidation(t *testing.T) {
	d, err := Decode(nil, fixture(t, "eventgrid-validation.json"))
	require.NoError(t, err)
	assert.Equal(t, "512d38b6-c7b8-40c8-89fe-f46f9e9622b6", d.ValidationCode)
	assert.Empty(t, d.Refs)
}

func TestDecode_RefusesWhatItCannotRead(t *testing.T) {
	tests := []struct {
		name string
		h    http.Header
		body string
	}{
		{"empty", nil, ""},
		{"not JSON", nil, "hello"},
		{"unknown object", nil, `{"hello":"world"}`},
		{"JSON scalar", nil, `42`},
		{"REST value not a list", nil, `{"value":"x"}`},
		{"CloudEvents 0.3", header("Ce-Specversion", "0.3"), `{}`},
		{"structured without specversion", header("Content-Type", "application/cloudevents+json"), `{"subject":"x"}`},
		{"batch not a list", header("Content-Type", "application/cloudevents-batch+json"), `{}`},
		{"validation without code", nil, `[{"eventType":"Microsoft.EventGrid.SubscriptionValidationEvent","data":{}}]`},
		{"pubsub data not base64", nil, `{"message":{"data":"***"},"subscription":"s"}`},
		{"too many events", nil, "[" + strings.Repeat(`{"eventType":"x"},`, MaxEvents) + `{"eventType":"x"}]`},
		{"envelopes too deep", nil, nestSNS(10)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(tt.h, []byte(tt.body))
			assert.ErrorIs(t, err, ErrFormat)
		})
	}
}

// nestSNS wraps an EventBridge event in n SNS envelopes.
func nestSNS(n int) string {
	s := `{"detail-type":"x","resources":["arn:aws:ec2:r:1:instance/i-1"]}`
	for range n {
		s = `{"Type":"Notification","Message":` + quote(s) + `}`
	}
	return s
}

func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(s) + `"`
}

func TestDecodeMessage_TakesCloudEventAttributes(t *testing.T) {
	d, err := DecodeMessage(map[string]string{"ce-specversion": "1.0", "ce-subject": "projects/p/locations/l/operations/op-1"}, []byte(`{}`))
	require.NoError(t, err)
	assert.Equal(t, FormatCloudEventsBinary, d.Format)
	assert.Equal(t, []string{"projects/p/locations/l/operations/op-1"}, d.Refs)
}

package push

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
)

// Formats a Delivery can have.
const (
	FormatREST              = "rest"               // REST guidelines push notification
	FormatCloudEventsBinary = "cloudevents-binary" // CloudEvents HTTP binding §3.1
	FormatCloudEvents       = "cloudevents"        // CloudEvents HTTP binding §3.2 (structured)
	FormatCloudEventsBatch  = "cloudevents-batch"  // CloudEvents HTTP binding §3.3 (batched)
	FormatEventGrid         = "eventgrid"          // Azure Event Grid event schema
	FormatPubSubPush        = "pubsub-push"        // Pub/Sub push subscription envelope
	FormatEventBridge       = "eventbridge"        // Amazon EventBridge event
	FormatSNS               = "sns"                // Amazon SNS notification (as SNS writes to SQS)
	FormatAuditLog          = "auditlog"           // Google Cloud LogEntry (Cloud Audit Logs)
)

// Limits on what one delivery may carry.
const (
	// MaxEvents is the most events one batch may hold.
	MaxEvents = 1000
	// MaxRefs is the most identifiers taken from one delivery; the rest
	// are ignored.
	MaxRefs  = 4096
	maxDepth = 4 // envelopes within envelopes (SNS in SQS, LogEntry in Pub/Sub in CloudEvents)
)

// ErrFormat is wrapped by the errors of bodies that are not a notification
// this package understands.
var ErrFormat = errors.New("push: not a recognised notification")

// Delivery is what one notification carried: identifiers of resources or
// operations that may have changed, never a result.
type Delivery struct {
	// Format names the outer format (see the Format constants).
	Format string
	// Refs are the identifiers found, each once, as the sender wrote them, for
	// fleet.Signal.Refs (which normalises them with fleet.MatchKeys).
	Refs []string
	// ValidationCode is set when the delivery is Event Grid's subscription
	// validation handshake: the receiver answers it and signals nothing.
	ValidationCode string
}

// Decode reads one HTTP delivery: a CloudEvent in binary mode (header
// "ce-specversion"), structured or batched mode (by media type), an Event
// Grid array, a REST guidelines notification ({"value": [...]}), a Pub/Sub
// push envelope, or a bare EventBridge event, SNS notification or Cloud
// Audit Logs LogEntry. It never panics; a body it cannot read is an error
// wrapping ErrFormat. A well-formed event that names nothing gives a
// Delivery without Refs.
func Decode(h http.Header, body []byte) (Delivery, error) {
	d := &decoder{}
	if v := h.Get("Ce-Specversion"); v != "" {
		// CloudEvents HTTP binding §3.1.3: attributes in ce- headers, data
		// in the body, described by Content-Type.
		if v != "1.0" {
			return Delivery{}, fmt.Errorf("%w: cloudevents specversion %q, want 1.0", ErrFormat, v)
		}
		d.ref(h.Get("Ce-Subject"))
		d.ref(h.Get("Ce-Resourcename")) // Eventarc's extension for audit log events
		if isJSON(h.Get("Content-Type")) && len(bytes.TrimSpace(body)) > 0 {
			d.data(body, 1)
		}
		return d.delivery(FormatCloudEventsBinary), nil
	}
	mt, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	switch mt {
	case "application/cloudevents+json":
		if err := d.cloudEvent(body, 0); err != nil {
			return Delivery{}, err
		}
		return d.delivery(FormatCloudEvents), nil
	case "application/cloudevents-batch+json":
		var evs []json.RawMessage
		if err := json.Unmarshal(body, &evs); err != nil {
			return Delivery{}, fmt.Errorf("%w: cloudevents batch: %s", ErrFormat, jsonProblem(err))
		}
		if len(evs) > MaxEvents {
			return Delivery{}, fmt.Errorf("%w: %d events in one batch, more than %d", ErrFormat, len(evs), MaxEvents)
		}
		for _, ev := range evs {
			if err := d.cloudEvent(ev, 0); err != nil {
				return Delivery{}, err
			}
		}
		return d.delivery(FormatCloudEventsBatch), nil
	}
	format, err := d.sniff(body, 0)
	if err != nil {
		return Delivery{}, err
	}
	return d.delivery(format), nil
}

// DecodeMessage reads a message pulled from a queue (Pub/Sub, SQS): attrs
// are its attributes, which may carry a binary-mode CloudEvent's "ce-"
// attributes; body is read as Decode reads an HTTP body.
func DecodeMessage(attrs map[string]string, body []byte) (Delivery, error) {
	h := http.Header{}
	for k, v := range attrs {
		h.Set(k, v)
	}
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json")
	}
	return Decode(h, body)
}

type decoder struct {
	refs       []string
	seen       map[string]bool
	validation string
}

func (d *decoder) delivery(format string) Delivery {
	return Delivery{Format: format, Refs: d.refs, ValidationCode: d.validation}
}

// ref adds an identifier once.
func (d *decoder) ref(s string) {
	if s = strings.TrimSpace(s); s == "" || d.seen[s] || len(d.refs) >= MaxRefs {
		return
	}
	if d.seen == nil {
		d.seen = map[string]bool{}
	}
	d.seen[s] = true
	d.refs = append(d.refs, s)
}

// sniff tells the JSON formats apart by their shape.
func (d *decoder) sniff(body []byte, depth int) (string, error) {
	if depth > maxDepth {
		return "", fmt.Errorf("%w: envelopes nested too deep", ErrFormat)
	}
	b := bytes.TrimSpace(body)
	if len(b) == 0 {
		return "", fmt.Errorf("%w: empty body", ErrFormat)
	}
	if b[0] == '[' {
		var evs []json.RawMessage
		if err := json.Unmarshal(b, &evs); err != nil {
			return "", fmt.Errorf("%w: %s", ErrFormat, jsonProblem(err))
		}
		if len(evs) > MaxEvents {
			return "", fmt.Errorf("%w: %d events in one delivery, more than %d", ErrFormat, len(evs), MaxEvents)
		}
		format := FormatEventGrid
		for _, ev := range evs {
			f, err := d.sniffObject(ev, depth)
			if err != nil {
				return "", err
			}
			if f == FormatCloudEvents {
				format = FormatCloudEventsBatch
			}
		}
		return format, nil
	}
	return d.sniffObject(b, depth)
}

func (d *decoder) sniffObject(b []byte, depth int) (string, error) {
	var o map[string]json.RawMessage
	if err := json.Unmarshal(b, &o); err != nil {
		return "", fmt.Errorf("%w: %s", ErrFormat, jsonProblem(err))
	}
	switch {
	case o["specversion"] != nil:
		return FormatCloudEvents, d.cloudEvent(b, depth)
	case o["eventType"] != nil:
		return FormatEventGrid, d.eventGrid(o, depth)
	case o["value"] != nil:
		return FormatREST, d.rest(o["value"])
	case o["message"] != nil && o["subscription"] != nil:
		return FormatPubSubPush, d.pubSubPush(o["message"], depth)
	case o["detail-type"] != nil:
		d.eventBridge(o)
		return FormatEventBridge, nil
	case str(o["Type"]) == "Notification" && o["Message"] != nil:
		// SNS → SQS without raw delivery: the event is a JSON string.
		_, err := d.sniff([]byte(str(o["Message"])), depth+1)
		return FormatSNS, err
	case o["protoPayload"] != nil || o["logName"] != nil:
		d.auditLog(o)
		return FormatAuditLog, nil
	}
	return "", fmt.Errorf("%w: a JSON object of unknown shape", ErrFormat)
}

// rest reads the REST guidelines' notification: {"value": [{"resourceUrl":
// ..., "subscriptionId": ..., "context": ...}]} (reference 001, "The typical
// flow, push notifications").
func (d *decoder) rest(raw json.RawMessage) error {
	var items []struct {
		ResourceURL string `json:"resourceUrl"`
		Resource    string `json:"resource"` // Microsoft Graph's name for it
	}
	if err := json.Unmarshal(raw, &items); err != nil {
		return fmt.Errorf("%w: notification value: %s", ErrFormat, jsonProblem(err))
	}
	if len(items) > MaxEvents {
		return fmt.Errorf("%w: %d notifications in one delivery, more than %d", ErrFormat, len(items), MaxEvents)
	}
	for _, it := range items {
		d.ref(it.ResourceURL)
		d.ref(it.Resource)
	}
	return nil
}

// cloudEvent reads a structured-mode CloudEvent (JSON event format §3):
// subject, Eventarc's resourcename extension, and its data or data_base64
// when that is JSON.
func (d *decoder) cloudEvent(b []byte, depth int) error {
	var ev struct {
		SpecVersion  string          `json:"specversion"`
		Subject      string          `json:"subject"`
		ResourceName string          `json:"resourcename"`
		Data         json.RawMessage `json:"data"`
		DataBase64   string          `json:"data_base64"`
	}
	if err := json.Unmarshal(b, &ev); err != nil {
		return fmt.Errorf("%w: cloudevent: %s", ErrFormat, jsonProblem(err))
	}
	if ev.SpecVersion != "1.0" {
		return fmt.Errorf("%w: cloudevents specversion %q, want 1.0", ErrFormat, ev.SpecVersion)
	}
	d.ref(ev.Subject)
	d.ref(ev.ResourceName)
	switch {
	case len(ev.Data) > 0:
		d.data(ev.Data, depth+1)
	case ev.DataBase64 != "":
		if raw, err := base64.StdEncoding.DecodeString(ev.DataBase64); err == nil {
			d.data(raw, depth+1)
		}
	}
	return nil
}

// eventGrid reads one event of the Event Grid schema: subject (the
// resource id for Azure resource events) and data.resourceUri; the
// subscription validation event gives its code instead (Event Grid docs,
// "Webhook event delivery": SubscriptionValidationEvent).
func (d *decoder) eventGrid(o map[string]json.RawMessage, depth int) error {
	if str(o["eventType"]) == "Microsoft.EventGrid.SubscriptionValidationEvent" {
		var data struct {
			ValidationCode string `json:"validationCode"`
		}
		if err := json.Unmarshal(o["data"], &data); err != nil || data.ValidationCode == "" {
			return fmt.Errorf("%w: event grid validation event without a validationCode", ErrFormat)
		}
		d.validation = data.ValidationCode
		return nil
	}
	d.ref(str(o["subject"]))
	if o["data"] != nil {
		d.data(o["data"], depth+1)
	}
	return nil
}

func (d *decoder) pubSubPush(raw json.RawMessage, depth int) error {
	var m struct {
		Data       string            `json:"data"`
		Attributes map[string]string `json:"attributes"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return fmt.Errorf("%w: pubsub push message: %s", ErrFormat, jsonProblem(err))
	}
	body, err := base64.StdEncoding.DecodeString(m.Data)
	if err != nil {
		return fmt.Errorf("%w: pubsub push message data is not base64", ErrFormat)
	}
	if s := m.Attributes["ce-subject"]; s != "" {
		d.ref(s)
	}
	if len(bytes.TrimSpace(body)) > 0 {
		d.data(body, depth+1)
	}
	return nil
}

// eventBridge reads an EventBridge event: its resources (ARNs) and the
// identifiers CloudFormation and EC2 put in detail.
func (d *decoder) eventBridge(o map[string]json.RawMessage) {
	var res []string
	_ = json.Unmarshal(o["resources"], &res)
	for _, r := range res {
		d.ref(r)
	}
	var detail struct {
		StackID    string `json:"stack-id"`
		StackName  string `json:"stack-name"`
		InstanceID string `json:"instance-id"`
	}
	_ = json.Unmarshal(o["detail"], &detail)
	d.ref(detail.StackID)
	d.ref(detail.StackName)
	d.ref(detail.InstanceID)
}

// auditLog reads a LogEntry of Cloud Audit Logs: the resource name, the
// long-running operation's id, and the name or links of the operation a
// call returned.
func (d *decoder) auditLog(o map[string]json.RawMessage) {
	var e struct {
		ProtoPayload struct {
			ResourceName string `json:"resourceName"`
			Response     struct {
				Name       string `json:"name"`
				SelfLink   string `json:"selfLink"`
				TargetLink string `json:"targetLink"`
			} `json:"response"`
		} `json:"protoPayload"`
		Operation struct {
			ID string `json:"id"`
		} `json:"operation"`
	}
	b, _ := json.Marshal(o)
	_ = json.Unmarshal(b, &e)
	d.ref(e.ProtoPayload.ResourceName)
	d.ref(e.Operation.ID)
	d.ref(e.ProtoPayload.Response.Name)
	d.ref(e.ProtoPayload.Response.SelfLink)
	d.ref(e.ProtoPayload.Response.TargetLink)
}

// data reads an event's payload, whatever carried it: a known envelope or
// event, or an object naming a resource (ARM's resourceUri). Payloads of
// unknown shape are ignored: the event's own attributes may suffice.
func (d *decoder) data(b []byte, depth int) {
	if depth > maxDepth {
		return
	}
	var o map[string]json.RawMessage
	if json.Unmarshal(b, &o) != nil {
		return
	}
	for _, k := range []string{"resourceUri", "resourceUrl", "resourceName"} {
		d.ref(str(o[k]))
	}
	if _, err := d.sniffObject(b, depth); err != nil {
		return
	}
}

func str(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return contentType == ""
	}
	return mt == "application/json" || mt == "text/json" || strings.HasSuffix(mt, "+json")
}

// jsonProblem says what is wrong with a JSON body without quoting it.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("invalid JSON at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("unexpected JSON %s at byte %d", te.Value, te.Offset)
	}
	return "invalid JSON"
}

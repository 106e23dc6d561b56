package sqsfake

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
)

// Region is the region of Config.
const Region = "us-east-1"

// Server is the fake.
type Server struct {
	srv *httptest.Server

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced when a message is sent
	queues   map[string]*queue
	seq      int
	fail     int
	receives int
}

type queue struct {
	ready    []Message
	inflight map[string]Message // by receipt handle
	deleted  int
}

// Message is one queued message.
type Message struct {
	ID, Body string
	// Attributes are string message attributes.
	Attributes map[string]string
}

// New starts a fake with no queues; QueueURL makes one.
func New() *Server {
	s := &Server{queues: map[string]*queue{}, changed: make(chan struct{})}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Close shuts the fake down.
func (s *Server) Close() { s.srv.CloseClientConnections(); s.srv.Close() }

// Config returns an aws.Config that reaches the fake, with static
// credentials and a retryer that never retries.
func (s *Server) Config() awssdk.Config {
	return awssdk.Config{
		Region:       Region,
		Credentials:  awssdk.NewCredentialsCache(staticCredentials{}),
		BaseEndpoint: awssdk.String(s.srv.URL),
		Retryer:      func() awssdk.Retryer { return awssdk.NopRetryer{} },
		HTTPClient:   s.srv.Client(),
	}
}

type staticCredentials struct{}

func (staticCredentials) Retrieve(context.Context) (awssdk.Credentials, error) {
	return awssdk.Credentials{AccessKeyID: "AKIDLROKITFAKE", SecretAccessKey: "fake-secret", Source: "sqsfake"}, nil
}

// QueueURL creates the queue name (if needed) and returns its URL.
func (s *Server) QueueURL(name string) string {
	u := s.srv.URL + "/123456789012/" + name
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.queues[u] == nil {
		s.queues[u] = &queue{inflight: map[string]Message{}}
	}
	return u
}

// Send queues a message with body and string attributes on queueURL.
func (s *Server) Send(queueURL, body string, attrs map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sendLocked(queueURL, body, attrs)
}

func (s *Server) sendLocked(queueURL, body string, attrs map[string]string) (Message, bool) {
	q := s.queues[queueURL]
	if q == nil {
		return Message{}, false
	}
	s.seq++
	m := Message{ID: fmt.Sprintf("msg-%d", s.seq), Body: body, Attributes: attrs}
	q.ready = append(q.ready, m)
	close(s.changed)
	s.changed = make(chan struct{})
	return m, true
}

// Counts returns the messages of queueURL waiting, in flight and deleted.
func (s *Server) Counts(queueURL string) (ready, inflight, deleted int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queues[queueURL]
	if q == nil {
		return 0, 0, 0
	}
	return len(q.ready), len(q.inflight), q.deleted
}

// Receives counts the ReceiveMessage calls answered.
func (s *Server) Receives() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.receives
}

// Fail makes the next n receives answer 500 InternalError.
func (s *Server) Fail(n int) {
	s.mu.Lock()
	s.fail = n
	s.mu.Unlock()
}

// Requeue makes every in-flight message of queueURL visible again, as an
// expired visibility timeout does: it is then delivered twice.
func (s *Server) Requeue(queueURL string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queues[queueURL]
	for h, m := range q.inflight {
		q.ready = append(q.ready, m)
		delete(q.inflight, h)
	}
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, "AmazonSQS.")
	if r.Method != http.MethodPost || !ok {
		writeErr(w, http.StatusBadRequest, "InvalidAction", "unsupported request "+r.Method+" "+target)
		return
	}
	var in struct {
		QueueURL            string `json:"QueueUrl"`
		MessageBody         string
		MaxNumberOfMessages int
		WaitTimeSeconds     int
		ReceiptHandle       string
		Entries             []struct{ ID, ReceiptHandle string } `json:"Entries"`
	}
	b, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(b, &in); err != nil {
		writeErr(w, http.StatusBadRequest, "SerializationException", err.Error())
		return
	}
	switch op {
	case "SendMessage":
		s.mu.Lock()
		m, ok := s.sendLocked(in.QueueURL, in.MessageBody, nil)
		s.mu.Unlock()
		if !ok {
			writeErr(w, http.StatusBadRequest, "AWS.SimpleQueueService.NonExistentQueue", "no such queue")
			return
		}
		writeJSON(w, map[string]any{"MessageId": m.ID, "MD5OfMessageBody": md5hex(m.Body)})
	case "ReceiveMessage":
		s.receive(w, r, in.QueueURL, max(min(in.MaxNumberOfMessages, 10), 1), in.WaitTimeSeconds)
	case "DeleteMessage":
		s.mu.Lock()
		ok := s.deleteLocked(in.QueueURL, in.ReceiptHandle)
		s.mu.Unlock()
		if !ok {
			writeErr(w, http.StatusBadRequest, "ReceiptHandleIsInvalid", "unknown receipt handle")
			return
		}
		writeJSON(w, map[string]any{})
	case "DeleteMessageBatch":
		var okIDs, failed []map[string]any
		s.mu.Lock()
		for _, e := range in.Entries {
			if s.deleteLocked(in.QueueURL, e.ReceiptHandle) {
				okIDs = append(okIDs, map[string]any{"Id": e.ID})
			} else {
				failed = append(failed, map[string]any{"Id": e.ID, "Code": "ReceiptHandleIsInvalid", "SenderFault": true})
			}
		}
		s.mu.Unlock()
		writeJSON(w, map[string]any{"Successful": okIDs, "Failed": failed})
	default:
		writeErr(w, http.StatusBadRequest, "InvalidAction", "unsupported action "+op)
	}
}

func (s *Server) deleteLocked(queueURL, handle string) bool {
	q := s.queues[queueURL]
	if q == nil {
		return false
	}
	if _, ok := q.inflight[handle]; !ok {
		return false
	}
	delete(q.inflight, handle)
	q.deleted++
	return true
}

// receive answers at once when messages are ready; otherwise, with a wait
// time, when one is sent or the request ends (no timer: tests never wait
// in real time for the long poll to expire).
func (s *Server) receive(w http.ResponseWriter, r *http.Request, queueURL string, n, wait int) {
	for {
		s.mu.Lock()
		q := s.queues[queueURL]
		if q == nil {
			s.mu.Unlock()
			writeErr(w, http.StatusBadRequest, "AWS.SimpleQueueService.NonExistentQueue", "no such queue")
			return
		}
		if s.fail > 0 {
			s.fail--
			s.receives++
			s.mu.Unlock()
			writeErr(w, http.StatusInternalServerError, "InternalError", "injected failure")
			return
		}
		if len(q.ready) > 0 || wait <= 0 {
			k := min(n, len(q.ready))
			var msgs []map[string]any
			for _, m := range q.ready[:k] {
				s.seq++
				h := "rh-" + strconv.Itoa(s.seq)
				q.inflight[h] = m
				msg := map[string]any{"MessageId": m.ID, "ReceiptHandle": h, "Body": m.Body, "MD5OfBody": md5hex(m.Body)}
				if len(m.Attributes) > 0 {
					attrs := map[string]any{}
					for k, v := range m.Attributes {
						attrs[k] = map[string]any{"DataType": "String", "StringValue": v}
					}
					msg["MessageAttributes"] = attrs
				}
				msgs = append(msgs, msg)
			}
			q.ready = q.ready[k:]
			s.receives++
			s.mu.Unlock()
			writeJSON(w, map[string]any{"Messages": msgs})
			return
		}
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-changed:
		case <-r.Context().Done():
			return
		case <-time.After(time.Duration(wait) * time.Second):
			wait = 0
		}
	}
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func writeJSON(w http.ResponseWriter, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	_, _ = w.Write(b)
}

func writeErr(w http.ResponseWriter, status int, code, msg string) {
	b, _ := json.Marshal(map[string]string{"__type": "com.amazonaws.sqs#" + code, "message": msg})
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-Query-Error", code+";Sender")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

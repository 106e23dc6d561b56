package push

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lrokit/lrokit/fleet"
)

// recorder is a Target that records signals and can be held back.
type recorder struct {
	mu    sync.Mutex
	sigs  []fleet.Signal
	gate  chan struct{} // when set, Signal waits for it
	calls chan struct{}
}

func newRecorder() *recorder { return &recorder{calls: make(chan struct{}, 1000)} }

func (r *recorder) Signal(s fleet.Signal) int {
	if r.gate != nil {
		<-r.gate
	}
	r.mu.Lock()
	r.sigs = append(r.sigs, s)
	r.mu.Unlock()
	r.calls <- struct{}{}
	return len(s.Refs)
}

func (r *recorder) wait(t *testing.T, n int) []fleet.Signal {
	t.Helper()
	for range n {
		select {
		case <-r.calls:
		case <-time.After(5 * time.Second):
			t.Fatal("no signal")
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]fleet.Signal(nil), r.sigs...)
}

func startReceiver(t *testing.T, tg Target, o Options) *Receiver {
	t.Helper()
	rc, err := NewReceiver(tg, &o)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = rc.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return rc
}

func post(rc http.Handler, path string, h http.Header, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	for k, v := range h {
		req.Header[k] = v
	}
	w := httptest.NewRecorder()
	rc.ServeHTTP(w, req)
	return w
}

func TestReceiver_SignalsWhatEachFormatNames(t *testing.T) {
	rec := newRecorder()
	rc := startReceiver(t, rec, Options{Auth: Auth{PathToken: "s3cret"}})
	w := post(rc, "/hooks/s3cret", header("Content-Type", "application/json"), fixture(t, "rest.json"))
	require.Equal(t, http.StatusAccepted, w.Code)
	sigs := rec.wait(t, 1)
	assert.Equal(t, []fleet.Signal{{Source: "webhook", Refs: []string{"https://api.contoso.com/v1.0/databases/db1"}}}, sigs)
	assert.Equal(t, Stats{Accepted: 1, Signaled: 1, Matched: 1}, rc.Stats())
}

func TestReceiver_AnswersTheEventGridHandshake(t *testing.T) {
	rec := newRecorder()
	rc := startReceiver(t, rec, Options{Auth: Auth{PathToken: "s3cret"}})
	w := post(rc, "/s3cret", nil, fixture(t, "eventgrid-validation.json"))
	require.Equal(t, http.StatusOK, w.Code)
	var got map[string]string
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got))
	assert.Equal(t, map[string]string{"validationResponse": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6"}, got)
	// ... but only with the secret.
	assert.Equal(t, http.StatusUnauthorized, post(rc, "/other", nil, fixture(t, "eventgrid-validation.json")).Code)
	assert.Equal(t, int64(1), rc.Stats().Validations)
}

func TestReceiver_AnswersTheCloudEventsWebhookHandshake(t *testing.T) {
	rc := startReceiver(t, newRecorder(), Options{Auth: Auth{PathToken: "s3cret"}})
	req := httptest.NewRequest(http.MethodOptions, "/s3cret", nil)
	req.Header.Set("WebHook-Request-Origin", "eventgrid.azure.net")
	w := httptest.NewRecorder()
	rc.ServeHTTP(w, req)
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "eventgrid.azure.net", w.Header().Get("WebHook-Allowed-Origin"))

	req = httptest.NewRequest(http.MethodOptions, "/wrong", nil)
	req.Header.Set("WebHook-Request-Origin", "eventgrid.azure.net")
	w = httptest.NewRecorder()
	rc.ServeHTTP(w, req)
	assert.Equal(t, http.StatusUnauthorized, w.Code)
}

func TestReceiver_RefusesForgedDeliveries(t *testing.T) {
	key := []byte("k")
	body := fixture(t, "rest.json")
	tests := []struct {
		name string
		auth Auth
		path string
		h    http.Header
		want int
	}{
		{"good HMAC", Auth{HMACKey: key}, "/", header("X-Lrokit-Signature", Sign(key, body)), http.StatusAccepted},
		{"bare hex HMAC", Auth{HMACKey: key}, "/", header("X-Lrokit-Signature", strings.TrimPrefix(Sign(key, body), "sha256=")), http.StatusAccepted},
		{"HMAC of another key", Auth{HMACKey: key}, "/", header("X-Lrokit-Signature", Sign([]byte("x"), body)), http.StatusUnauthorized},
		{"HMAC not hex", Auth{HMACKey: key}, "/", header("X-Lrokit-Signature", "sha256=zz"), http.StatusUnauthorized},
		{"no HMAC", Auth{HMACKey: key}, "/", nil, http.StatusUnauthorized},
		{"custom HMAC header", Auth{HMACKey: key, HMACHeader: "X-Sig"}, "/", header("X-Sig", Sign(key, body)), http.StatusAccepted},
		{"wrong path token", Auth{PathToken: "t0k"}, "/hooks/t0kx", nil, http.StatusUnauthorized},
		{"path token not last", Auth{PathToken: "t0k"}, "/t0k/x", nil, http.StatusUnauthorized},
		{"path token, trailing slash", Auth{PathToken: "t0k"}, "/hooks/t0k/", nil, http.StatusAccepted},
		{"API key header", Auth{HeaderName: "X-Api-Key", HeaderValue: "v"}, "/", header("X-Api-Key", "v"), http.StatusAccepted},
		{"wrong API key", Auth{HeaderName: "X-Api-Key", HeaderValue: "v"}, "/", header("X-Api-Key", "w"), http.StatusUnauthorized},
		{"both required, one given", Auth{PathToken: "t0k", HMACKey: key}, "/t0k", nil, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder()
			rc := startReceiver(t, rec, Options{Auth: tt.auth})
			assert.Equal(t, tt.want, post(rc, tt.path, tt.h, body).Code)
			if tt.want != http.StatusAccepted {
				assert.Equal(t, int64(1), rc.Stats().Unauthentic)
				assert.Empty(t, rec.sigs)
			}
		})
	}
}

func TestReceiver_RefusesBadRequestsWithoutSignaling(t *testing.T) {
	rec := newRecorder()
	rc := startReceiver(t, rec, Options{Auth: Auth{PathToken: "t"}, MaxBody: 1024})
	assert.Equal(t, http.StatusRequestEntityTooLarge, post(rc, "/t", nil, bytes.Repeat([]byte(" "), 1025)).Code)
	assert.Equal(t, http.StatusBadRequest, post(rc, "/t", nil, []byte(`{"nope":1}`)).Code)
	req := httptest.NewRequest(http.MethodGet, "/t", nil)
	w := httptest.NewRecorder()
	rc.ServeHTTP(w, req)
	assert.Equal(t, http.StatusMethodNotAllowed, w.Code)
	st := rc.Stats()
	assert.Equal(t, Stats{TooLarge: 1, Invalid: 2}, st)
	assert.Empty(t, rec.sigs)
}

func TestReceiver_AnswersBeforeSignalingAndDropsTheOldestWhenFull(t *testing.T) {
	rec := newRecorder()
	rec.gate = make(chan struct{})
	rc := startReceiver(t, rec, Options{Auth: Auth{PathToken: "t"}, QueueSize: 2})
	ev := func(i int) []byte {
		return []byte(`{"value":[{"resourceUrl":"https://h/r/` + string(rune('a'+i)) + `"}]}`)
	}
	// The first is taken by Run, which blocks in the target; the queue
	// then holds two; each further delivery drops the oldest queued one.
	require.Equal(t, http.StatusAccepted, post(rc, "/t", nil, ev(0)).Code)
	require.Eventually(t, func() bool { rc.mu.Lock(); defer rc.mu.Unlock(); return rc.n == 0 }, 5*time.Second, time.Millisecond)
	for i := 1; i <= 4; i++ {
		require.Equal(t, http.StatusAccepted, post(rc, "/t", nil, ev(i)).Code, "answered while the target is blocked")
	}
	assert.Equal(t, int64(2), rc.Stats().Dropped)
	close(rec.gate)
	sigs := rec.wait(t, 3)
	var got []string
	for _, s := range sigs {
		got = append(got, s.Refs...)
	}
	assert.Equal(t, []string{"https://h/r/a", "https://h/r/d", "https://h/r/e"}, got, "the newest survive")
}

func TestNewReceiver_RequiresAuthentication(t *testing.T) {
	_, err := NewReceiver(newRecorder(), nil)
	assert.ErrorContains(t, err, "no authentication")
	_, err = NewReceiver(newRecorder(), &Options{Unauthenticated: true})
	assert.NoError(t, err)
	_, err = NewReceiver(newRecorder(), &Options{Auth: Auth{HeaderName: "X"}})
	assert.Error(t, err)
	_, err = NewReceiver(nil, &Options{Unauthenticated: true})
	assert.Error(t, err)
}

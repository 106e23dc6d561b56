package push_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lrokit/lrokit/fleet"
	"github.com/lrokit/lrokit/persist"
	"github.com/lrokit/lrokit/poller"
	"github.com/lrokit/lrokit/poller/pollertest"
	"github.com/lrokit/lrokit/push"
)

// A real engine whose schedule would not poll for an hour: a notification
// through the receiver makes it poll at once, and the poll (not the
// notification) says the operation succeeded. A forged one changes nothing.
func TestReceiverAndEngine_ANotificationIsPolledAtOnce(t *testing.T) {
	hour := poller.Policy{Floor: time.Hour, Cap: time.Hour}
	running := poller.Observation{Status: poller.StatusRunning, Progress: poller.ProgressUnknown}
	// Started a minute ago: the signal's Gap after the initial response has passed.
	started := pollertest.NewClock(time.Now().Add(-time.Minute))
	p, err := poller.New[struct{}](&pollertest.Operation{Steps: []pollertest.Step{pollertest.Succeeded()}}, &poller.Options{Policy: hour, Initial: &running, Clock: started})
	require.NoError(t, err)
	tok, err := p.ResumeToken()
	require.NoError(t, err)

	events := make(chan fleet.Event, 10)
	resolve := func(_ context.Context, token string, opts *poller.Options) (fleet.Op, error) {
		tk, err := poller.DecodeToken(token, nil)
		if err != nil {
			return fleet.Op{}, err
		}
		rp, err := poller.Resume[struct{}](&pollertest.Operation{Steps: []pollertest.Step{pollertest.Succeeded()}}, tk, opts)
		return fleet.Op{Poller: rp, Host: "api.contoso.com", Match: []string{"https://api.contoso.com/v1.0/databases/db1?backup"}}, err
	}
	eng, err := fleet.New(persist.NewMemoryStore(nil), resolve, &fleet.Options{Policy: hour, OnEvent: func(ev fleet.Event) { events <- ev }})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	defer func() { cancel(); require.NoError(t, <-done) }()
	_, err = eng.Add(ctx, "db1-backup", tok, nil)
	require.NoError(t, err)
	next := func() fleet.Event {
		select {
		case ev := <-events:
			return ev
		case <-time.After(10 * time.Second):
			t.Fatal("no event")
			return fleet.Event{}
		}
	}
	require.Equal(t, fleet.EventClaimed, next().Kind)

	rc, err := push.NewReceiver(eng, &push.Options{Auth: push.Auth{PathToken: "s3cret"}})
	require.NoError(t, err)
	go func() { _ = rc.Run(ctx) }()
	body := `{"value":[{"subscriptionId":"1","resourceUrl":"https://api.contoso.com/v1.0/databases/db1"}]}`
	send := func(path string) int {
		w := httptest.NewRecorder()
		rc.ServeHTTP(w, httptest.NewRequest(http.MethodPost, path, strings.NewReader(body)))
		return w.Code
	}
	require.Equal(t, http.StatusUnauthorized, send("/push/forged"))
	assert.Equal(t, push.Stats{Unauthentic: 1}, rc.Stats(), "refused before anything was queued")

	sent := time.Now()
	require.Equal(t, http.StatusAccepted, send("/push/s3cret"))
	ev := next()
	lag := time.Since(sent)
	assert.Equal(t, fleet.EventDone, ev.Kind)
	assert.Equal(t, poller.StatusSucceeded, ev.Obs.Status)
	assert.Less(t, lag, time.Second, "polled within a second of the notification (Gap is 1 s)")
	t.Logf("notification to result: %s", lag)
	assert.Equal(t, fleet.SignalStats{Received: 1, Matched: 1, Delivered: 1}, eng.SignalStats())
}

package push_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/lrokit/lrokit/fleet"
	"github.com/lrokit/lrokit/push"
)

type printTarget struct{}

func (printTarget) Signal(s fleet.Signal) int {
	fmt.Println("poll sooner:", s.Refs)
	return 1
}

func Example() {
	// In a service: rc, _ := push.NewReceiver(engine, ...); go rc.Run(ctx);
	// http.Handle("/lrokit/", rc). Here the decoding alone.
	body := `{"value":[{"subscriptionId":"1","resourceUrl":"https://api.contoso.com/v1.0/databases/db1"}]}`
	d, err := push.Decode(http.Header{"Content-Type": {"application/json"}}, []byte(body))
	if err != nil {
		panic(err)
	}
	fmt.Println(d.Format, d.Refs)

	rc, err := push.NewReceiver(printTarget{}, &push.Options{Auth: push.Auth{PathToken: "s3cret"}})
	if err != nil {
		panic(err)
	}
	w := httptest.NewRecorder()
	rc.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/hooks/wrong", strings.NewReader(body)))
	fmt.Println(w.Code)
	// Output:
	// rest [https://api.contoso.com/v1.0/databases/db1]
	// 401
}

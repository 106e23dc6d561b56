package aws_test

import (
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"

	"github.com/lrokit/lrokit/aws"
)

// FuzzResume feeds untrusted tokens to Resume: it must never panic, and a
// token it accepts must encode again.
func FuzzResume(f *testing.F) {
	f.Add(`{"lrokit":1,"provider":"aws","kind":"cloudformation.StackCreateComplete","state":{"region":"us-east-1","input":{"StackName":"web"}},"created":"2025-03-01T12:00:00Z"}`)
	f.Add(`{"lrokit":1,"provider":"aws","kind":"ec2.InstanceRunning","state":{"region":"us-east-1","input":{"InstanceIds":["i-1"]},"endpoint":"http://127.0.0.1:1","min_delay":"1s"}}`)
	f.Add(`not a token`)
	cfg := awssdk.Config{Region: "us-east-1"}
	f.Fuzz(func(t *testing.T, token string) {
		p, err := aws.Resume[any](token, cfg, nil)
		if err != nil {
			return
		}
		if _, err := p.ResumeToken(); err != nil {
			t.Fatalf("an accepted token does not encode again: %v", err)
		}
	})
}

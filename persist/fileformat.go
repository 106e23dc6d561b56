package persist

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/lrokit/lrokit/poller"
)

// fileSchema is the record file format version this package writes; it
// reads every version up to it.
const fileSchema = 1

// maxFileSize bounds a record file: the largest valid record is well under
// it, so a larger file is not one of ours.
const maxFileSize = 1 << 20

// fileRecord is a record file's JSON form.
type fileRecord struct {
	Schema       int               `json:"lrokit_record"`
	Key          string            `json:"key"`
	Token        string            `json:"token"`
	Provider     string            `json:"provider,omitempty"`
	Status       poller.Status     `json:"status,omitempty"`
	Detail       string            `json:"detail,omitempty"`
	Labels       map[string]string `json:"labels,omitempty"`
	Generation   int64             `json:"generation"`
	Updated      time.Time         `json:"updated"`
	ExpiresAt    time.Time         `json:"expires_at,omitzero"`
	LeaseOwner   string            `json:"lease_owner,omitempty"`
	LeaseExpires time.Time         `json:"lease_expires,omitzero"`
	LeaseEpoch   int64             `json:"lease_epoch,omitempty"`
}

func encodeRecord(r Record) ([]byte, error) {
	b, err := json.MarshalIndent(fileRecord{
		Schema: fileSchema, Key: r.Key, Token: r.Token, Provider: r.Provider, Status: r.Status, Detail: r.Detail,
		Labels: r.Labels, Generation: r.Generation, Updated: r.Updated, ExpiresAt: r.ExpiresAt,
		LeaseOwner: r.Lease.Owner, LeaseExpires: r.Lease.Expires, LeaseEpoch: r.Lease.Epoch,
	}, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// decodeRecord parses a record file, untrusted. Errors never quote the
// content; a newer schema wraps ErrNewerVersion.
func decodeRecord(b []byte) (Record, error) {
	if len(b) > maxFileSize {
		return Record{}, fmt.Errorf("it is %d bytes, more than a record file can be", len(b))
	}
	var probe struct {
		Schema *int `json:"lrokit_record"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return Record{}, fmt.Errorf("it is not a JSON record file (%s)", jsonProblem(err))
	}
	switch {
	case probe.Schema == nil:
		return Record{}, errors.New(`it has no "lrokit_record" version field: not an lrokit record file`)
	case *probe.Schema < 1:
		return Record{}, fmt.Errorf("its version %d is not positive", *probe.Schema)
	case *probe.Schema > fileSchema:
		return Record{}, fmt.Errorf("it is record format version %d, newer than this lrokit reads (%d): %w", *probe.Schema, fileSchema, ErrNewerVersion)
	}
	var f fileRecord
	if err := json.Unmarshal(b, &f); err != nil {
		return Record{}, fmt.Errorf("a field has the wrong type (%s)", jsonProblem(err))
	}
	if f.Generation < 1 || f.LeaseEpoch < 0 {
		return Record{}, errors.New("its generation or lease epoch is out of range")
	}
	r, err := normalize(Record{
		Key: f.Key, Token: f.Token, Provider: f.Provider, Status: f.Status, Detail: f.Detail, Labels: f.Labels,
		Generation: f.Generation, Updated: f.Updated, ExpiresAt: f.ExpiresAt,
		Lease: Lease{Owner: f.LeaseOwner, Expires: f.LeaseExpires, Epoch: f.LeaseEpoch},
	})
	if err != nil {
		return Record{}, fmt.Errorf("it holds an invalid record: %w", err)
	}
	return r, nil
}

// jsonProblem describes a JSON error without quoting the input.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("field %q", te.Field)
	}
	return "malformed"
}

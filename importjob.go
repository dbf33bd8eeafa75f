package alinea

import (
	"encoding/json"
	"time"
)

// ImportStatus is where an asynchronous import is.
type ImportStatus string

const (
	// ImportPending is a file uploaded through the web UI that waits for its
	// column mapping; it runs only once queued.
	ImportPending ImportStatus = "pending"
	ImportQueued  ImportStatus = "queued"
	ImportRunning ImportStatus = "running"
	ImportDone    ImportStatus = "done"
	ImportFailed  ImportStatus = "failed"
)

// MaxImportUpload bounds a CSV file uploaded over HTTP (the API and the web
// UI); larger files go through `alinea import contacts`, which streams.
const MaxImportUpload = 64 << 20

// ImportJob is a CSV import submitted through the API and run in the
// background; its status is polled by the client.
type ImportJob struct {
	ID         int64             `json:"id"`
	UserID     int64             `json:"user_id"`
	Filename   string            `json:"filename"`
	Status     ImportStatus      `json:"status"`
	DryRun     bool              `json:"dry_run"`
	Mapping    map[string]string `json:"mapping,omitempty"`
	Bytes      int64             `json:"bytes"`
	Rows       int               `json:"rows"`
	Created    int               `json:"created"`
	Updated    int               `json:"updated"`
	Failed     int               `json:"failed"`
	RowErrors  []RowError        `json:"row_errors"`
	Error      string            `json:"error,omitempty"`
	CreatedAt  time.Time         `json:"created_at"`
	StartedAt  *time.Time        `json:"started_at,omitempty"`
	FinishedAt *time.Time        `json:"finished_at,omitempty"`
}

// RowError is one problem with one cell (or the whole row when Column is
// empty) of an imported file. Row counts the header as row 1.
type RowError struct {
	Row     int    `json:"row"`
	Column  string `json:"column,omitempty"`
	Problem string `json:"problem"`
}

// MaxStoredRowErrors bounds the row errors kept with an import job; the
// count in Failed stays exact.
const MaxStoredRowErrors = 1000

// ImportProgress is a running import's counters.
type ImportProgress struct {
	Rows    int
	Created int
	Updated int
	Failed  int
	Errors  []RowError
}

// MarshalMapping is a helper for storage.
func MarshalMapping(m map[string]string) string {
	if len(m) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(m)
	return string(b)
}

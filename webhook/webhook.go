// Package webhook posts Alinea's notifications to the subscribers' HTTP
// endpoints, signed so that a receiver can tell they come from Alinea and
// were not replayed. See docs/WEBHOOKS.md for the receiver's side.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Request headers.
const (
	// SignatureHeader carries "t=<unix seconds>,v1=<hex HMAC-SHA256 of
	// "<t>.<body>" keyed with the subscription's secret>".
	SignatureHeader = "Alinea-Signature"
	// EventHeader names the notification type (e.g. sla.breached).
	EventHeader = "Alinea-Event"
	// DeliveryHeader is the delivery's id, the same on every retry, so a
	// receiver can drop a delivery it has already processed.
	DeliveryHeader = "Alinea-Delivery"
)

// Timeout bounds one attempt, connection and response included.
const Timeout = 10 * time.Second

// DefaultTolerance is how old a signature Verify accepts by default.
const DefaultTolerance = 5 * time.Minute

// Payload is the JSON body of every webhook request.
type Payload struct {
	// ID is the delivery's id.
	ID         int64           `json:"id"`
	Type       string          `json:"type"`
	Key        string          `json:"key"`
	OccurredAt time.Time       `json:"occurred_at"`
	Data       json.RawMessage `json:"data"`
}

// Sender posts payloads.
type Sender struct {
	client    *http.Client
	now       func() time.Time
	userAgent string
}

// Options configure a Sender.
type Options struct {
	// Version is Alinea's, for the User-Agent header.
	Version string
	// PrivateNetworks lets the sender post to loopback, private, link-local
	// and other addresses that are not public (see ErrNotPublic), for
	// receivers on the same network as a self-hosted Alinea.
	PrivateNetworks bool
}

// NewSender returns a sender with a 10 s timeout per attempt that does not
// follow redirects (a subscription names the endpoint itself, and a
// redirected POST would lose its body) and, unless o.PrivateNetworks,
// connects to public addresses only.
func NewSender(o Options) *Sender {
	return &Sender{
		client: &http.Client{
			Transport:     newTransport(o.PrivateNetworks),
			Timeout:       Timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		now:       time.Now,
		userAgent: "Alinea-Webhook/" + o.Version,
	}
}

// Result is what an attempt got back.
type Result struct {
	// StatusCode is the endpoint's answer, 0 when none came.
	StatusCode int
	Duration   time.Duration
}

// Send posts p to url signed with secret. Any answer but 2xx, and no
// answer within the timeout, is an error that says what happened.
func (s *Sender) Send(ctx context.Context, url, secret string, p Payload) (Result, error) {
	body, err := json.Marshal(p)
	if err != nil {
		return Result{}, fmt.Errorf("encode webhook body: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return Result{}, fmt.Errorf("webhook request to %s: %w", url, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", s.userAgent)
	req.Header.Set(EventHeader, p.Type)
	req.Header.Set(DeliveryHeader, strconv.FormatInt(p.ID, 10))
	req.Header.Set(SignatureHeader, Sign(secret, s.now(), body))
	start := time.Now()
	resp, err := s.client.Do(req)
	res := Result{Duration: time.Since(start)}
	if err != nil {
		return res, fmt.Errorf("POST %s: %w", url, err)
	}
	defer resp.Body.Close()
	res.StatusCode = resp.StatusCode
	// A little of the answer helps whoever reads the delivery log.
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	res.Duration = time.Since(start)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		msg := fmt.Sprintf("POST %s: endpoint answered %s", url, resp.Status)
		if text := strings.TrimSpace(strings.ToValidUTF8(string(snippet), "")); text != "" && utf8.ValidString(text) {
			msg += ": " + text
		}
		return res, errors.New(msg)
	}
	return res, nil
}

// Sign returns the signature header value for body sent at t.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + mac(secret, ts, body)
}

func mac(secret, ts string, body []byte) string {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(ts))
	h.Write([]byte("."))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// Errors Verify returns.
var (
	ErrNoSignature  = errors.New("webhook: no Alinea-Signature header, or one without t= and v1=")
	ErrBadSignature = errors.New("webhook: the signature does not match the body")
	ErrTooOld       = errors.New("webhook: the signature's timestamp is outside the tolerance")
)

// Verify checks a request's Alinea-Signature header against its raw body
// and the subscription's secret, and that the signature is at most
// tolerance old (or ahead): an old request replayed by someone who caught it
// fails. Use DefaultTolerance unless clocks are known to drift more. Pass
// the body exactly as received, before any JSON decoding.
func Verify(secret, header string, body []byte, tolerance time.Duration) error {
	return verify(secret, header, body, tolerance, time.Now())
}

func verify(secret, header string, body []byte, tolerance time.Duration, now time.Time) error {
	var ts string
	var sigs []string
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	if ts == "" || len(sigs) == 0 {
		return ErrNoSignature
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrNoSignature
	}
	want := []byte(mac(secret, ts, body))
	ok := false
	for _, sig := range sigs {
		// Constant time, so the comparison leaks nothing about the secret.
		if hmac.Equal([]byte(sig), want) {
			ok = true
		}
	}
	if !ok {
		return ErrBadSignature
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return ErrTooOld
	}
	return nil
}

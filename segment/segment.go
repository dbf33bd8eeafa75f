// Package segment reads calls of Segment's HTTP Tracking API (identify,
// track, page, screen, group, alias and batch) and turns them into validated
// alinea.Messages. It follows Segment's field names and limits so that
// Segment's own client libraries work unchanged, and it imports no storage
// and no HTTP.
//
// Batch policy. api.segment.io answers 400 only for JSON errors and oversized
// payloads; calls it cannot use (no userId/anonymousId, a track without
// event) are accepted with 200 and dropped silently. Alinea keeps the half of
// that which protects data — every valid item of a batch is stored — and
// drops the silence: the items it rejects are reported in a 400 that names
// each one by index and field. Storing the valid items is safe even though
// some clients (analytics-go) retry a batch that got a 400: retried items
// are de-duplicated by messageId, and the invalid ones are rejected again.
// Rejecting the whole batch instead would lose the valid events once the
// client gives up retrying.
package segment

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/alinea-crm/alinea"
)

// Segment's documented limits.
const (
	// MaxEventBytes bounds one call, alone or inside a batch.
	MaxEventBytes = 32 << 10
	// MaxBatchBytes bounds one batch request.
	MaxBatchBytes = 500 << 10
	// MaxBatchEvents bounds the number of calls in one batch request.
	MaxBatchEvents = 2500
)

// maxReportedProblems keeps the error for a batch of bad items readable.
const maxReportedProblems = 100

// CallTypes are the call types of the Tracking API, in Segment's order.
var CallTypes = []string{"identify", "track", "page", "screen", "group", "alias"}

func isCallType(t string) bool {
	switch t {
	case "identify", "track", "page", "screen", "group", "alias":
		return true
	}
	return false
}

// Request is one parsed ingestion request.
type Request struct {
	// WriteKey is the writeKey found in the body, if any.
	WriteKey string
	// Messages are the valid calls, in request order, ready to be stored.
	Messages []alinea.Message
	// Rejected counts the batch items that were invalid.
	Rejected int
	// problems names each invalid item's field ("batch[3].event").
	problems alinea.FieldErrors
	// unreported counts problems left out of problems to keep it short.
	unreported int
}

// Err reports the batch items that were rejected, or nil when there were
// none. The valid items are in Messages regardless.
func (r *Request) Err() error {
	if r.Rejected == 0 {
		return nil
	}
	total := r.Rejected + len(r.Messages)
	msg := fmt.Sprintf("%d of %d calls in the batch are invalid and were not stored; the other %d were", r.Rejected, total, len(r.Messages))
	if r.unreported > 0 {
		msg += fmt.Sprintf(" (%d more problems not listed)", r.unreported)
	}
	return &alinea.Error{Code: alinea.EINVALID, Message: msg, Fields: map[string]string(r.problems)}
}

func (r *Request) reject(index int, problems alinea.FieldErrors) {
	r.Rejected++
	if r.problems == nil {
		r.problems = alinea.FieldErrors{}
	}
	prefix := "batch[" + strconv.Itoa(index) + "]"
	keys := make([]string, 0, len(problems))
	for k := range problems {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if len(r.problems) >= maxReportedProblems {
			r.unreported++
			continue
		}
		name := prefix
		if k != "" {
			name += "." + k
		}
		r.problems.Add(name, problems[k])
	}
}

// ParseCall parses the body of a single-call endpoint (/v1/track, /v1/t...);
// callType comes from the path. An invalid call is an error naming the field.
// The messages refer to body, which must not change while they are in use.
func ParseCall(body []byte, callType string, receivedAt time.Time) (Request, error) {
	if !isCallType(callType) {
		return Request{}, fmt.Errorf("segment: unknown call type %q", callType)
	}
	if len(body) > MaxEventBytes {
		return Request{}, alinea.Errorf(alinea.ETOOLARGE, "the call is %d bytes; Segment's limit is %d bytes per call", len(body), MaxEventBytes)
	}
	invalid := "invalid " + callType + " call"
	r := &reader{data: body}
	switch b := r.peek(); {
	case r.pos >= len(body):
		return Request{}, alinea.Errorf(alinea.EINVALID, "the body is empty; a JSON object is expected")
	case b == '{':
	default:
		if err := r.skip(); err != nil {
			return Request{}, asDomain(err)
		}
		return Request{}, &alinea.Error{Code: alinea.EINVALID, Message: invalid, Fields: map[string]string{"body": "must be a JSON object, not " + kindName(b)}}
	}
	var c wireCall
	fe := alinea.FieldErrors{}
	if err := r.call(&c, fe); err != nil {
		return Request{}, asDomain(err)
	}
	if err := r.end(); err != nil {
		return Request{}, asDomain(err)
	}
	if !validUTF8(body) {
		return Request{}, alinea.Errorf(alinea.EINVALID, "the body is not valid UTF-8")
	}
	if c.Type == "" {
		c.Type = callType
	}
	if t := strings.ToLower(c.Type); t != callType {
		fe.Add("type", fmt.Sprintf("is %q but this endpoint takes %s calls", c.Type, callType))
	}
	p := parser{receivedAt: receivedAt}
	m, problems := p.message(&c, callType)
	for k, v := range problems {
		fe.Add(k, v)
	}
	if err := fe.Err(invalid); err != nil {
		return Request{}, err
	}
	return Request{WriteKey: c.WriteKey, Messages: []alinea.Message{m}}, nil
}

// ParseBatch parses the body of /v1/batch, /v1/import or /v1/b. The error is
// for a request that cannot be used at all (malformed JSON, no batch); invalid
// items are left out of Messages and reported by Request.Err. The messages
// refer to body, which must not change while they are in use.
func ParseBatch(body []byte, receivedAt time.Time) (Request, error) {
	if len(body) > MaxBatchBytes {
		return Request{}, alinea.Errorf(alinea.ETOOLARGE, "the batch is %d bytes; Segment's limit is %d bytes per batch", len(body), MaxBatchBytes)
	}
	r := &reader{data: body}
	switch b := r.peek(); {
	case r.pos >= len(body):
		return Request{}, alinea.Errorf(alinea.EINVALID, "the body is empty; a JSON object is expected")
	case b == '{':
	default:
		if err := r.skip(); err != nil {
			return Request{}, asDomain(err)
		}
		return Request{}, &alinea.Error{Code: alinea.EINVALID, Message: "invalid batch", Fields: map[string]string{"body": "must be a JSON object, not " + kindName(b)}}
	}
	var w wireBatch
	top := alinea.FieldErrors{}
	if err := r.batch(&w, top); err != nil {
		return Request{}, asDomain(err)
	}
	if err := r.end(); err != nil {
		return Request{}, asDomain(err)
	}
	if !w.hasBatch {
		top.Add("batch", "is required: an array of calls")
	}
	if len(w.items) > MaxBatchEvents {
		top.Add("batch", fmt.Sprintf("has %d calls; Segment's limit is %d per batch", len(w.items), MaxBatchEvents))
	}
	p := parser{receivedAt: receivedAt}
	if w.sentAt != "" {
		t, err := parseTime(w.sentAt)
		if err != nil {
			top.Add("sentAt", err.Error())
		}
		p.batchSentAt = t
	}
	if len(w.context) > 2 { // more than {}
		if !validUTF8(w.context) {
			top.Add("context", "is not valid UTF-8")
		} else if err := json.Unmarshal(w.context, &p.batchContext); err != nil {
			top.Add("context", "must be a JSON object")
		}
	}
	if err := top.Err("invalid batch"); err != nil {
		return Request{}, err
	}
	req := Request{WriteKey: w.writeKey, Messages: make([]alinea.Message, 0, len(w.items))}
	for i := range w.items {
		it := &w.items[i]
		c := &it.call
		switch {
		case it.notObject != "":
			req.reject(i, alinea.FieldErrors{"": "must be a JSON object, not " + it.notObject})
			continue
		case len(it.raw) > MaxEventBytes:
			req.reject(i, alinea.FieldErrors{"": tooLargeProblem(c.MessageID, len(it.raw))})
			continue
		case !validUTF8(it.raw):
			req.reject(i, alinea.FieldErrors{"": "is not valid UTF-8"})
			continue
		}
		if req.WriteKey == "" {
			req.WriteKey = c.WriteKey // analytics.js may put it in each call
		}
		typ := strings.ToLower(c.Type)
		if !isCallType(typ) {
			problem := "is required: one of " + strings.Join(CallTypes, ", ")
			if c.Type != "" {
				problem = fmt.Sprintf("%q is not one of %s", c.Type, strings.Join(CallTypes, ", "))
			}
			it.problems.Add("type", problem)
			req.reject(i, it.problems)
			continue
		}
		m, problems := p.message(c, typ)
		for k, v := range problems {
			it.problems.Add(k, v)
		}
		if len(it.problems) > 0 {
			req.reject(i, it.problems)
			continue
		}
		req.Messages = append(req.Messages, m)
	}
	return req, nil
}

// asDomain turns a syntax error into the domain error the caller sees.
func asDomain(err error) error {
	if se, ok := err.(*syntaxError); ok {
		return se.domain()
	}
	return err
}

func tooLargeProblem(messageID string, size int) string {
	who := "the call"
	if messageID != "" {
		who = fmt.Sprintf("the call with messageId %q", messageID)
	}
	return fmt.Sprintf("%s is %d bytes; Segment's limit is %d bytes per call", who, size, MaxEventBytes)
}

// parser carries what a batch shares between its calls.
type parser struct {
	receivedAt   time.Time
	batchSentAt  time.Time
	batchContext map[string]json.RawMessage
}

// message validates one call whose type is already known to be valid. The
// reader has already checked that properties, traits and context are objects.
func (p *parser) message(c *wireCall, typ string) (alinea.Message, alinea.FieldErrors) {
	var fe alinea.FieldErrors
	problem := func(field, text string) {
		if fe == nil {
			fe = alinea.FieldErrors{}
		}
		fe.Add(field, text)
	}
	m := alinea.Message{
		Type:        typ,
		MessageID:   strings.TrimSpace(c.MessageID),
		UserID:      strings.TrimSpace(c.UserID),
		AnonymousID: strings.TrimSpace(c.AnonymousID),
		GroupID:     strings.TrimSpace(c.GroupID),
		PreviousID:  strings.TrimSpace(c.PreviousID),
		Properties:  c.Properties,
		Context:     c.Context,
		ReceivedAt:  p.receivedAt,
	}
	if m.UserID == "" && m.AnonymousID == "" {
		problem("userId", "or anonymousId is required; the call has neither")
	}
	switch typ {
	case "track":
		m.Event = strings.TrimSpace(c.Event)
		if m.Event == "" {
			problem("event", `is required on a track call: the name of the action, such as "Signed Up"`)
		}
	case "page", "screen":
		m.Event = strings.TrimSpace(c.Name)
		if m.Event == "" {
			m.Event = strings.TrimSpace(c.Category)
		}
	case "group":
		if m.GroupID == "" {
			problem("groupId", "is required on a group call")
		}
	case "alias":
		if m.PreviousID == "" {
			problem("previousId", "is required on an alias call: the id being merged into userId")
		}
	}

	if len(p.batchContext) > 0 {
		merged, err := mergeContext(p.batchContext, m.Context)
		if err != nil {
			problem("context", "must be a JSON object")
		}
		m.Context = merged
	}
	wc := readContext(m.Context)
	m.UTM = utmFrom(&wc)

	switch typ {
	case "identify":
		// Traits may also come in context.traits (analytics.js does so when
		// traits are set apart from identify); explicit traits win.
		m.Traits = c.Traits
		if len(wc.traits) > 2 {
			if merged, err := mergeObjects(wc.traits, c.Traits); err == nil {
				m.Traits = merged
			}
		}
	case "group":
		// context.traits describe the user, not the group.
		m.Traits = c.Traits
	}
	if len(m.Properties) == 0 && len(m.Traits) > 0 {
		// identify and group carry no properties; keeping the traits on the
		// event records what the call said.
		m.Properties = m.Traits
	}

	original, err := p.time(c.Timestamp)
	if err != nil {
		problem("timestamp", err.Error())
	}
	if original.IsZero() {
		if original, err = p.time(c.OriginalTimestamp); err != nil {
			problem("originalTimestamp", err.Error())
		}
	}
	sentAt := p.batchSentAt
	if c.SentAt != "" {
		if sentAt, err = parseTime(c.SentAt); err != nil {
			problem("sentAt", err.Error())
		}
	}
	m.Timestamp = correctSkew(original, sentAt, p.receivedAt)

	if len(fe) > 0 {
		return alinea.Message{}, fe
	}
	if m.MessageID == "" {
		m.MessageID = newMessageID()
	}
	return m, nil
}

func (p *parser) time(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return parseTime(s)
}

// correctSkew applies Segment's clock-skew correction: the client's clocks
// told when the call happened (original) and when it was sent (sentAt); the
// server's clock says when it arrived, so the call happened
// receivedAt - (sentAt - original) by the server's clock. Without sentAt
// (a historical import) the timestamp is taken as given.
func correctSkew(original, sentAt, receivedAt time.Time) time.Time {
	if original.IsZero() || sentAt.IsZero() || receivedAt.IsZero() {
		return original
	}
	return receivedAt.Add(original.Sub(sentAt))
}

// timeLayouts are the ISO 8601 forms Segment's libraries send: RFC 3339 with
// or without fractional seconds, offsets with or without a colon, and local
// times without an offset (taken as UTC).
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02",
}

func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an ISO 8601 date-time such as 2024-05-01T12:30:00.000Z", s)
}

// utmFrom reads the campaign of a call: context.campaign as analytics.js
// fills it, or else the utm_* parameters of the page's address.
func utmFrom(c *wireContext) alinea.UTM {
	if c.campaign != (alinea.UTM{}) {
		return c.campaign
	}
	if !c.hasPage {
		return alinea.UTM{}
	}
	query := strings.TrimPrefix(c.search.String(), "?")
	if pageURL := c.pageURL.String(); query == "" && pageURL != "" {
		if u, err := url.Parse(pageURL); err == nil {
			query = u.RawQuery
		}
	}
	if !strings.Contains(query, "utm_") {
		return alinea.UTM{}
	}
	v, _ := url.ParseQuery(query) // keep what parses
	return alinea.UTM{
		Source:   v.Get("utm_source"),
		Medium:   v.Get("utm_medium"),
		Campaign: v.Get("utm_campaign"),
		Term:     v.Get("utm_term"),
		Content:  v.Get("utm_content"),
	}
}

// mergeContext lays a call's own context over the batch's context.
func mergeContext(batch map[string]json.RawMessage, own json.RawMessage) (json.RawMessage, error) {
	merged := make(map[string]json.RawMessage, len(batch)+8)
	for k, v := range batch {
		merged[k] = v
	}
	if len(own) > 0 {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(own, &m); err != nil {
			return nil, err
		}
		for k, v := range m {
			merged[k] = v
		}
	}
	return json.Marshal(merged)
}

// mergeObjects lays the keys of top over those of base.
func mergeObjects(base, top json.RawMessage) (json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(base, &m); err != nil {
		return nil, err
	}
	if len(top) > 0 {
		var t map[string]json.RawMessage
		if err := json.Unmarshal(top, &t); err != nil {
			return nil, err
		}
		for k, v := range t {
			m[k] = v
		}
	}
	return json.Marshal(m)
}

// newMessageID names a call that came without a messageId. It is random:
// two identical calls without ids are two events, not one.
func newMessageID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand since Go 1.24)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}

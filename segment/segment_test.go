package segment

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/alinea-crm/alinea"
)

var received = time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)

func TestParseCallRules(t *testing.T) {
	tests := []struct {
		name     string
		call     string
		body     string
		field    string // the field the error must name; "" means valid
		code     string
		contains string // a fragment of the field's problem
	}{
		{"track ok", "track", `{"userId":"u1","event":"Signed Up"}`, "", "", ""},
		{"anonymous track ok", "track", `{"anonymousId":"a1","event":"Clicked"}`, "", "", ""},
		{"numeric user id", "track", `{"userId":12345,"event":"x"}`, "", "", ""},
		{"no ids", "track", `{"event":"Signed Up"}`, "userId", alinea.EINVALID, "anonymousId"},
		{"blank ids", "page", `{"userId":"  ","anonymousId":""}`, "userId", alinea.EINVALID, "anonymousId"},
		{"null ids", "identify", `{"userId":null,"anonymousId":null}`, "userId", alinea.EINVALID, "anonymousId"},
		{"track without event", "track", `{"userId":"u1"}`, "event", alinea.EINVALID, "required"},
		{"track with blank event", "track", `{"userId":"u1","event":"   "}`, "event", alinea.EINVALID, "required"},
		{"event not a string", "track", `{"userId":"u1","event":7}`, "event", alinea.EINVALID, "must be a string"},
		{"group without groupId", "group", `{"userId":"u1","traits":{"name":"Acme"}}`, "groupId", alinea.EINVALID, "required"},
		{"group ok", "group", `{"userId":"u1","groupId":42}`, "", "", ""},
		{"alias without previousId", "alias", `{"userId":"u1"}`, "previousId", alinea.EINVALID, "required"},
		{"alias ok", "alias", `{"userId":"u1","previousId":"anon-9"}`, "", "", ""},
		{"id is an object", "track", `{"userId":{"a":1},"event":"x"}`, "userId", alinea.EINVALID, "string or a number"},
		{"properties not an object", "track", `{"userId":"u1","event":"x","properties":[1,2]}`, "properties", alinea.EINVALID, "object"},
		{"traits not an object", "identify", `{"userId":"u1","traits":"vip"}`, "traits", alinea.EINVALID, "object"},
		{"context not an object", "page", `{"userId":"u1","context":5}`, "context", alinea.EINVALID, "object"},
		{"bad timestamp", "track", `{"userId":"u1","event":"x","timestamp":"yesterday"}`, "timestamp", alinea.EINVALID, "ISO 8601"},
		{"bad sentAt", "track", `{"userId":"u1","event":"x","sentAt":"13/01/2024"}`, "sentAt", alinea.EINVALID, "ISO 8601"},
		{"type disagrees with path", "track", `{"type":"page","userId":"u1","event":"x"}`, "type", alinea.EINVALID, "track"},
		{"type in other case", "track", `{"type":"Track","userId":"u1","event":"x"}`, "", "", ""},
		{"unknown fields are ignored", "track", `{"userId":"u1","event":"x","_metadata":{"bundled":[]},"integrations":{"All":true},"version":2}`, "", "", ""},
		{"body is an array", "track", `[{"userId":"u1"}]`, "body", alinea.EINVALID, "object"},
		{"malformed", "track", `{"userId":"u1",`, "", alinea.EINVALID, "malformed JSON"},
		{"empty body", "track", ``, "", alinea.EINVALID, "empty"},
		{"trailing data", "track", `{"userId":"u1","event":"x"} {}`, "", alinea.EINVALID, "malformed JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := ParseCall([]byte(tt.body), tt.call, received)
			if tt.code == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if len(req.Messages) != 1 || req.Messages[0].Type != tt.call {
					t.Fatalf("messages = %+v", req.Messages)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted an invalid call: %+v", req.Messages)
			}
			if got := alinea.ErrorCode(err); got != tt.code {
				t.Fatalf("code = %s, want %s (%v)", got, tt.code, err)
			}
			if tt.field == "" {
				if !strings.Contains(err.Error(), tt.contains) {
					t.Fatalf("error %q, want it to mention %q", err, tt.contains)
				}
				return
			}
			problem, ok := alinea.ErrorFields(err)[tt.field]
			if !ok {
				t.Fatalf("error does not name %q: %v", tt.field, err)
			}
			if !strings.Contains(problem, tt.contains) {
				t.Fatalf("problem for %s = %q, want it to mention %q", tt.field, problem, tt.contains)
			}
		})
	}
}

func TestParseCallFields(t *testing.T) {
	body := `{
		"writeKey": "wk_123",
		"messageId": "m-1",
		"userId": 987,
		"anonymousId": "anon-1",
		"event": "Order Completed",
		"properties": {"total": 42.5, "currency": "EUR"},
		"context": {"campaign": {"source": "newsletter", "medium": "email", "name": "spring", "term": "crm", "content": "hero"}, "ip": "10.0.0.1"}
	}`
	req, err := ParseCall([]byte(body), "track", received)
	if err != nil {
		t.Fatal(err)
	}
	if req.WriteKey != "wk_123" {
		t.Errorf("writeKey = %q", req.WriteKey)
	}
	m := req.Messages[0]
	if m.MessageID != "m-1" || m.UserID != "987" || m.AnonymousID != "anon-1" || m.Event != "Order Completed" {
		t.Errorf("ids/event wrong: %+v", m)
	}
	want := alinea.UTM{Source: "newsletter", Medium: "email", Campaign: "spring", Term: "crm", Content: "hero"}
	if m.UTM != want {
		t.Errorf("utm = %+v, want %+v", m.UTM, want)
	}
	var props map[string]any
	if err := json.Unmarshal(m.Properties, &props); err != nil || props["total"] != 42.5 {
		t.Errorf("properties = %s (%v)", m.Properties, err)
	}
	var ctx map[string]any
	if err := json.Unmarshal(m.Context, &ctx); err != nil || ctx["ip"] != "10.0.0.1" {
		t.Errorf("context = %s (%v)", m.Context, err)
	}
	if !m.ReceivedAt.Equal(received) {
		t.Errorf("receivedAt = %v", m.ReceivedAt)
	}
	if !m.Timestamp.IsZero() {
		t.Errorf("a call without timestamp must leave it to the store (received time), got %v", m.Timestamp)
	}
}

func TestPageAndScreenNames(t *testing.T) {
	tests := []struct {
		call, body, want string
	}{
		{"page", `{"anonymousId":"a","name":"Pricing","category":"Docs"}`, "Pricing"},
		{"page", `{"anonymousId":"a","category":"Docs"}`, "Docs"},
		{"page", `{"anonymousId":"a","properties":{"path":"/"}}`, ""},
		{"screen", `{"userId":"u","name":"Settings"}`, "Settings"},
	}
	for _, tt := range tests {
		req, err := ParseCall([]byte(tt.body), tt.call, received)
		if err != nil {
			t.Fatalf("%s: %v", tt.body, err)
		}
		if got := req.Messages[0].Event; got != tt.want {
			t.Errorf("%s: event = %q, want %q", tt.body, got, tt.want)
		}
	}
}

func TestUTMFromPageAddress(t *testing.T) {
	tests := []struct {
		name, context string
		want          alinea.UTM
	}{
		{"campaign wins", `{"campaign":{"source":"ads"},"page":{"url":"https://x.es/?utm_source=other"}}`, alinea.UTM{Source: "ads"}},
		{"from search", `{"page":{"search":"?utm_source=google&utm_medium=cpc&utm_campaign=brand&utm_term=crm%20gratis&utm_content=v2"}}`,
			alinea.UTM{Source: "google", Medium: "cpc", Campaign: "brand", Term: "crm gratis", Content: "v2"}},
		{"from url", `{"page":{"url":"https://alinea.example/precios?utm_source=linkedin&utm_campaign=q2"}}`, alinea.UTM{Source: "linkedin", Campaign: "q2"}},
		{"empty campaign falls back", `{"campaign":{},"page":{"url":"https://a.b/?utm_medium=social"}}`, alinea.UTM{Medium: "social"}},
		{"no utm", `{"page":{"url":"https://a.b/?q=1"}}`, alinea.UTM{}},
		{"odd types in context are tolerated", `{"campaign":{"source":5},"page":{"url":"https://a.b/?utm_source=x"}}`, alinea.UTM{Source: "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := ParseCall([]byte(`{"anonymousId":"a","context":`+tt.context+`}`), "page", received)
			if err != nil {
				t.Fatal(err)
			}
			if got := req.Messages[0].UTM; got != tt.want {
				t.Errorf("utm = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestTimestamps(t *testing.T) {
	tests := []struct {
		name string
		body string
		want time.Time
	}{
		{"no timestamp", `{}`, time.Time{}},
		{"historical, no sentAt", `{"timestamp":"2024-01-02T03:04:05Z"}`, time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)},
		{"fractional seconds", `{"timestamp":"2024-01-02T03:04:05.123456Z"}`, time.Date(2024, 1, 2, 3, 4, 5, 123456000, time.UTC)},
		{"offset", `{"timestamp":"2024-01-02T05:04:05+02:00"}`, time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)},
		{"offset without colon", `{"timestamp":"2024-01-02T05:04:05.000+0200"}`, time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)},
		{"no zone is UTC", `{"timestamp":"2024-01-02T03:04:05"}`, time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)},
		// The client's clock is 1 hour fast: it says the call happened at
		// 13:00 and was sent at 13:00:30; the server got it at 12:00.
		{"clock skew corrected", `{"timestamp":"2025-03-10T13:00:00Z","sentAt":"2025-03-10T13:00:30Z"}`, received.Add(-30 * time.Second)},
		{"originalTimestamp used when timestamp absent", `{"originalTimestamp":"2025-03-10T11:00:00Z","sentAt":"2025-03-10T11:00:10Z"}`, received.Add(-10 * time.Second)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var fields map[string]any
			if err := json.Unmarshal([]byte(tt.body), &fields); err != nil {
				t.Fatal(err)
			}
			fields["userId"], fields["event"] = "u", "x"
			body, _ := json.Marshal(fields)
			req, err := ParseCall(body, "track", received)
			if err != nil {
				t.Fatal(err)
			}
			if got := req.Messages[0].Timestamp; !got.Equal(tt.want) {
				t.Errorf("timestamp = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestBatchSentAtCorrectsEveryCall(t *testing.T) {
	body := `{"sentAt":"2025-03-10T12:10:00Z","batch":[
		{"type":"track","userId":"u","event":"a","timestamp":"2025-03-10T12:09:00Z"},
		{"type":"track","userId":"u","event":"b","timestamp":"2025-03-10T12:09:50Z","sentAt":"2025-03-10T12:09:55Z"}
	]}`
	req, err := ParseBatch([]byte(body), received)
	if err != nil {
		t.Fatal(err)
	}
	if err := req.Err(); err != nil {
		t.Fatal(err)
	}
	if got, want := req.Messages[0].Timestamp, received.Add(-time.Minute); !got.Equal(want) {
		t.Errorf("first: %v, want %v (batch sentAt)", got, want)
	}
	if got, want := req.Messages[1].Timestamp, received.Add(-5*time.Second); !got.Equal(want) {
		t.Errorf("second: %v, want %v (its own sentAt wins)", got, want)
	}
}

func TestIdentifyTraits(t *testing.T) {
	body := `{"userId":"u1","traits":{"email":"ana@acme.es","plan":"pro"},"context":{"traits":{"plan":"free","company":"Acme"}}}`
	req, err := ParseCall([]byte(body), "identify", received)
	if err != nil {
		t.Fatal(err)
	}
	var traits map[string]string
	if err := json.Unmarshal(req.Messages[0].Traits, &traits); err != nil {
		t.Fatal(err)
	}
	if traits["email"] != "ana@acme.es" || traits["plan"] != "pro" || traits["company"] != "Acme" {
		t.Errorf("traits = %v: want explicit traits over context.traits", traits)
	}

	req, err = ParseCall([]byte(`{"anonymousId":"a","context":{"traits":{"email":"luis@acme.es"}}}`), "identify", received)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(req.Messages[0].Traits), "luis@acme.es") {
		t.Errorf("context.traits alone not used: %s", req.Messages[0].Traits)
	}

	req, err = ParseCall([]byte(`{"userId":"u","groupId":"g","traits":{"name":"Acme"},"context":{"traits":{"email":"x@y.es"}}}`), "group", received)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(req.Messages[0].Traits), "x@y.es") {
		t.Errorf("group took the user's context.traits: %s", req.Messages[0].Traits)
	}
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestMissingMessageIDIsGenerated(t *testing.T) {
	body := []byte(`{"userId":"u","event":"x"}`)
	a, err := ParseCall(body, "track", received)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := ParseCall(body, "track", received)
	idA, idB := a.Messages[0].MessageID, b.Messages[0].MessageID
	if !uuidRE.MatchString(idA) {
		t.Errorf("generated id %q is not a v4 UUID", idA)
	}
	if idA == idB {
		t.Errorf("two calls without messageId got the same id %q", idA)
	}
}

func TestBatchReportsEveryBadItemAndKeepsTheRest(t *testing.T) {
	big := strings.Repeat("x", MaxEventBytes)
	body := fmt.Sprintf(`{"writeKey":"wk","batch":[
		{"type":"identify","userId":"u1","traits":{"email":"a@b.es"}},
		{"type":"track","userId":"u1"},
		{"type":"launch","userId":"u1"},
		{"userId":"u1"},
		{"type":"page","properties":{}},
		{"type":"track","messageId":"too-big","userId":"u1","event":"x","properties":{"blob":%q}},
		"not an object",
		{"type":"group","userId":"u1"},
		{"type":"alias","userId":"u1"},
		{"type":"track","anonymousId":"a9","event":"Viewed","messageId":"keep-me"}
	]}`, big)
	req, err := ParseBatch([]byte(body), received)
	if err != nil {
		t.Fatal(err)
	}
	if len(req.Messages) != 2 || req.Messages[0].Type != "identify" || req.Messages[1].MessageID != "keep-me" {
		t.Fatalf("kept %+v, want the identify and the last track", req.Messages)
	}
	if req.WriteKey != "wk" {
		t.Errorf("writeKey = %q", req.WriteKey)
	}
	err = req.Err()
	if alinea.ErrorCode(err) != alinea.EINVALID {
		t.Fatalf("Err() = %v", err)
	}
	fields := alinea.ErrorFields(err)
	want := map[string]string{
		"batch[1].event":      "required",
		"batch[2].type":       `"launch" is not one of`,
		"batch[3].type":       "required",
		"batch[4].userId":     "anonymousId",
		"batch[5]":            `messageId "too-big"`,
		"batch[6]":            "object",
		"batch[7].groupId":    "required",
		"batch[8].previousId": "required",
	}
	for field, fragment := range want {
		if !strings.Contains(fields[field], fragment) {
			t.Errorf("%s: problem %q, want it to mention %q", field, fields[field], fragment)
		}
	}
	if len(fields) != len(want) {
		t.Errorf("fields = %v", fields)
	}
	if req.Rejected != 8 || !strings.Contains(err.Error(), "8 of 10") {
		t.Errorf("rejected = %d, message %q", req.Rejected, err.Error())
	}
}

func TestBatchRequestErrors(t *testing.T) {
	tests := []struct {
		name, body, field, code string
	}{
		{"no batch", `{"writeKey":"wk"}`, "batch", alinea.EINVALID},
		{"batch not an array", `{"batch":{"type":"track"}}`, "batch", alinea.EINVALID},
		{"bad sentAt", `{"sentAt":"now","batch":[]}`, "sentAt", alinea.EINVALID},
		{"context not an object", `{"context":[1],"batch":[]}`, "context", alinea.EINVALID},
		{"malformed", `{"batch":[{"type":"track",]}`, "", alinea.EINVALID},
		{"too many calls", `{"batch":[` + strings.Repeat(`{},`, MaxBatchEvents) + `{}]}`, "batch", alinea.EINVALID},
		{"too large", `{"batch":["` + strings.Repeat("x", MaxBatchBytes) + `"]}`, "", alinea.ETOOLARGE},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseBatch([]byte(tt.body), received)
			if alinea.ErrorCode(err) != tt.code {
				t.Fatalf("error %v (code %s), want %s", err, alinea.ErrorCode(err), tt.code)
			}
			if tt.field != "" {
				if _, ok := alinea.ErrorFields(err)[tt.field]; !ok {
					t.Fatalf("error does not name %s: %v", tt.field, err)
				}
			}
		})
	}
}

func TestSingleCallTooLarge(t *testing.T) {
	body := fmt.Sprintf(`{"userId":"u","event":"x","properties":{"blob":%q}}`, strings.Repeat("y", 40<<10))
	_, err := ParseCall([]byte(body), "track", received)
	if alinea.ErrorCode(err) != alinea.ETOOLARGE || !strings.Contains(err.Error(), "32768") {
		t.Fatalf("got %v", err)
	}
}

func TestBatchContextAppliesToEveryCall(t *testing.T) {
	body := `{"context":{"library":{"name":"analytics-go"},"campaign":{"source":"batch"}},"batch":[
		{"type":"track","userId":"u","event":"a"},
		{"type":"track","userId":"u","event":"b","context":{"campaign":{"source":"own"},"ip":"1.2.3.4"}}
	]}`
	req, err := ParseBatch([]byte(body), received)
	if err != nil {
		t.Fatal(err)
	}
	if req.Messages[0].UTM.Source != "batch" || req.Messages[1].UTM.Source != "own" {
		t.Errorf("utm sources = %q, %q", req.Messages[0].UTM.Source, req.Messages[1].UTM.Source)
	}
	var ctx map[string]any
	if err := json.Unmarshal(req.Messages[1].Context, &ctx); err != nil {
		t.Fatal(err)
	}
	if ctx["library"] == nil || ctx["ip"] != "1.2.3.4" {
		t.Errorf("merged context = %s", req.Messages[1].Context)
	}
}

func TestWriteKeyFromItems(t *testing.T) {
	req, err := ParseBatch([]byte(`{"batch":[{"type":"page","anonymousId":"a","writeKey":"wk_item"}]}`), received)
	if err != nil {
		t.Fatal(err)
	}
	if req.WriteKey != "wk_item" {
		t.Errorf("writeKey = %q", req.WriteKey)
	}
}

func TestIdentifyKeepsTraitsOnTheEvent(t *testing.T) {
	req, err := ParseCall([]byte(`{"userId":"u","traits":{"plan":"pro"}}`), "identify", received)
	if err != nil {
		t.Fatal(err)
	}
	if string(req.Messages[0].Properties) != `{"plan":"pro"}` {
		t.Errorf("properties = %s", req.Messages[0].Properties)
	}
}

// The reader must accept exactly the JSON that encoding/json accepts: what
// it lets through is stored as JSON text.
var jsonCorpus = []string{
	`{}`, `[]`, `""`, `0`, `-0`, `1.5e+10`, `-12.25E-3`, `true`, `false`, `null`,
	`{"a":[1,2,{"b":null}],"c":"\u00e9\n\"\\\/"}`, ` { "a" : 1 } `,
	`{"a":1,}`, `[1,]`, `{"a" 1}`, `{a:1}`, `01`, `1.`, `.5`, `-`, `1e`, `+1`, `tru`, `nul`,
	`"\x"`, `"\u12"`, `"\u12G4"`, "\"tab\there\"", `"unterminated`, `{"a":1`, `[`, `}`, ``,
	`{"a":1}}`, `[1 2]`, `"\ud83d\ude00"`, `{"":""}`, `1 2`,
}

func FuzzReaderMatchesEncodingJSON(f *testing.F) {
	for _, s := range jsonCorpus {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := &reader{data: []byte(s)}
		err := r.skip()
		if err == nil {
			err = r.end()
		}
		if got, want := err == nil, json.Valid([]byte(s)); got != want {
			t.Fatalf("reader accepts %q: %v (err %v), encoding/json: %v", s, got, err, want)
		}
	})
}

func TestReaderDepthLimit(t *testing.T) {
	deep := strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1)
	r := &reader{data: []byte(deep)}
	if err := r.skip(); err == nil || !strings.Contains(err.Error(), "deep") {
		t.Fatalf("got %v", err)
	}
}

func TestEscapedKeysAndValues(t *testing.T) {
	req, err := ParseCall([]byte(`{"user\u0049d":"Jos\u00e9","event":"Caf\u00e9 \"Visited\""}`), "track", received)
	if err != nil {
		t.Fatal(err)
	}
	m := req.Messages[0]
	if m.UserID != "José" || m.Event != `Café "Visited"` {
		t.Fatalf("userId %q event %q", m.UserID, m.Event)
	}
}

func TestInvalidUTF8IsRejected(t *testing.T) {
	bad := []byte("{\"userId\":\"u\",\"event\":\"x\",\"properties\":{\"p\":\"\xff\xfe\"}}")
	if _, err := ParseCall(bad, "track", received); alinea.ErrorCode(err) != alinea.EINVALID || !strings.Contains(err.Error(), "UTF-8") {
		t.Fatalf("single call: %v", err)
	}
	body := append(append([]byte(`{"batch":[{"type":"track","userId":"u","event":"ok"},`), bad...), []byte(`]}`)...)
	req, err := ParseBatch(body, received)
	if err != nil {
		t.Fatal(err)
	}
	if len(req.Messages) != 1 || !strings.Contains(alinea.ErrorFields(req.Err())["batch[1]"], "UTF-8") {
		t.Fatalf("batch: %d kept, %v", len(req.Messages), req.Err())
	}
}

func FuzzParse(f *testing.F) {
	f.Add(`{"batch":[{"type":"track","userId":"u","event":"x","context":{"campaign":{"name":"c"},"page":{"url":"https://a/?utm_source=s"}}}],"sentAt":"2025-01-01T00:00:00Z"}`)
	f.Add(`{"userId":5,"traits":{"email":"a@b.es"},"context":{"traits":{"x":1}}}`)
	f.Add(`{"context":{"library":{}},"batch":[{"type":"identify","anonymousId":"a","context":{"traits":{"e":"x"}}}]}`)
	f.Fuzz(func(t *testing.T, body string) {
		for _, call := range []string{"identify", "track"} {
			if req, err := ParseCall([]byte(body), call, received); err == nil {
				checkParsed(t, req)
			}
		}
		if req, err := ParseBatch([]byte(body), received); err == nil {
			checkParsed(t, req)
		}
	})
}

// checkParsed asserts what the store relies on for every accepted call.
func checkParsed(t *testing.T, req Request) {
	for _, m := range req.Messages {
		if m.MessageID == "" || (m.UserID == "" && m.AnonymousID == "") || !isCallType(m.Type) {
			t.Fatalf("accepted %+v", m)
		}
		for _, raw := range [][]byte{m.Properties, m.Traits, m.Context} {
			if len(raw) > 0 && (!json.Valid(raw) || raw[0] != '{') {
				t.Fatalf("accepted non-object JSON %q", raw)
			}
		}
	}
}

func FuzzUnescapeMatchesEncodingJSON(f *testing.F) {
	for _, s := range []string{`a\u0026b`, `\ud83d\ude00`, `\ud83d`, `\ude00x`, `\ud83d\u0041`, `\"\\\/\b\f\n\r\t`, `plain`, `\u00e9\u00E9`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		quoted := []byte(`"` + body + `"`)
		r := &reader{data: quoted}
		raw, _, err := r.rawString()
		if err != nil || r.pos != len(quoted) || !utf8.Valid(quoted) {
			return
		}
		var want string
		if err := json.Unmarshal(quoted, &want); err != nil {
			t.Fatalf("reader accepted %q that encoding/json refuses: %v", quoted, err)
		}
		if got := unescape(raw); got != want {
			t.Fatalf("unescape(%q) = %q, want %q", raw, got, want)
		}
	})
}

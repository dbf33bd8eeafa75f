package segment

import (
	"encoding/json"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/alinea-crm/alinea"
)

// reader walks JSON text once, validating it completely while it picks out
// the fields of Segment calls. It exists because ingestion is the hot path:
// encoding/json reads a batch four or five times over (validation, then
// decoding, once for the batch and again for each call and its context),
// while this reads it once and keeps properties, traits and context as
// slices of the body instead of copies.
type reader struct {
	data  []byte
	pos   int
	depth int
}

// maxDepth bounds nesting so that hostile input cannot exhaust the stack.
const maxDepth = 512

// syntaxError is malformed JSON; the whole request is unusable.
type syntaxError struct {
	offset int
	msg    string
}

func (e *syntaxError) Error() string {
	return fmt.Sprintf("malformed JSON at byte %d: %s", e.offset, e.msg)
}

func (e *syntaxError) domain() error {
	return alinea.Errorf(alinea.EINVALID, "%s", e.Error())
}

func (r *reader) fail(msg string) error {
	return &syntaxError{offset: r.pos, msg: msg}
}

func (r *reader) unexpected(what string) error {
	if r.pos >= len(r.data) {
		return r.fail("the body ends early; expected " + what)
	}
	return r.fail(fmt.Sprintf("unexpected %q; expected %s", r.data[r.pos], what))
}

func (r *reader) ws() {
	for r.pos < len(r.data) {
		switch r.data[r.pos] {
		case ' ', '\t', '\n', '\r':
			r.pos++
		default:
			return
		}
	}
}

// peek returns the next significant byte, or 0 at the end.
func (r *reader) peek() byte {
	r.ws()
	if r.pos >= len(r.data) {
		return 0
	}
	return r.data[r.pos]
}

// end checks that nothing but white space follows the value just read.
func (r *reader) end() error {
	if r.ws(); r.pos < len(r.data) {
		return r.fail("unexpected data after the top-level value")
	}
	return nil
}

// kindName names the JSON type that starts with b, for error messages.
func kindName(b byte) string {
	switch b {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// skip validates one value and moves past it.
func (r *reader) skip() error {
	switch r.peek() {
	case '{':
		return r.object(func([]byte) error { return r.skip() })
	case '[':
		return r.array(func(int) error { return r.skip() })
	case '"':
		_, _, err := r.rawString()
		return err
	case 't':
		return r.literal("true")
	case 'f':
		return r.literal("false")
	case 'n':
		return r.literal("null")
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return r.number()
	}
	return r.unexpected("a JSON value")
}

func (r *reader) literal(word string) error {
	if len(r.data)-r.pos < len(word) || string(r.data[r.pos:r.pos+len(word)]) != word {
		return r.unexpected(word)
	}
	r.pos += len(word)
	return nil
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

// number validates a number by JSON's grammar.
func (r *reader) number() error {
	d := r.data
	if r.pos < len(d) && d[r.pos] == '-' {
		r.pos++
	}
	switch {
	case r.pos < len(d) && d[r.pos] == '0':
		r.pos++
	case r.pos < len(d) && isDigit(d[r.pos]):
		for r.pos < len(d) && isDigit(d[r.pos]) {
			r.pos++
		}
	default:
		return r.unexpected("a digit")
	}
	if r.pos < len(d) && d[r.pos] == '.' {
		r.pos++
		if r.pos >= len(d) || !isDigit(d[r.pos]) {
			return r.unexpected("a digit after the decimal point")
		}
		for r.pos < len(d) && isDigit(d[r.pos]) {
			r.pos++
		}
	}
	if r.pos < len(d) && (d[r.pos] == 'e' || d[r.pos] == 'E') {
		r.pos++
		if r.pos < len(d) && (d[r.pos] == '+' || d[r.pos] == '-') {
			r.pos++
		}
		if r.pos >= len(d) || !isDigit(d[r.pos]) {
			return r.unexpected("a digit in the exponent")
		}
		for r.pos < len(d) && isDigit(d[r.pos]) {
			r.pos++
		}
	}
	return nil
}

func isHex(b byte) bool {
	return isDigit(b) || (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F')
}

// rawString validates a string and returns its bytes between the quotes,
// still escaped, and whether it holds escapes.
func (r *reader) rawString() ([]byte, bool, error) {
	d := r.data
	start := r.pos + 1
	escaped := false
	for i := start; i < len(d); i++ {
		switch c := d[i]; {
		case c == '"':
			r.pos = i + 1
			return d[start:i], escaped, nil
		case c == '\\':
			escaped = true
			i++
			if i >= len(d) {
				r.pos = i
				return nil, false, r.fail("the body ends inside a string")
			}
			switch d[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(d) || !isHex(d[i+1]) || !isHex(d[i+2]) || !isHex(d[i+3]) || !isHex(d[i+4]) {
					r.pos = i
					return nil, false, r.fail(`\u must be followed by four hex digits`)
				}
				i += 4
			default:
				r.pos = i
				return nil, false, r.fail(fmt.Sprintf("invalid escape \\%c in a string", d[i]))
			}
		case c < 0x20:
			r.pos = i
			return nil, false, r.fail("control character in a string; it must be escaped")
		}
	}
	r.pos = len(d)
	return nil, false, r.fail("the body ends inside a string")
}

// str reads a string value.
func (r *reader) str() (string, error) {
	raw, escaped, err := r.rawString()
	if err != nil || !escaped {
		return string(raw), err
	}
	return unescape(raw), nil
}

// unescape decodes the body of a string that rawString has validated.
// Escapes are common: Go clients write & < > as \u0026 \u003c \u003e.
func unescape(raw []byte) string {
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		switch raw[i] {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r := hex4(raw[i+1 : i+5])
			i += 4
			if utf16.IsSurrogate(r) {
				// A pair makes one character; a lone half becomes U+FFFD,
				// as encoding/json does.
				if i+6 < len(raw) && raw[i+1] == '\\' && raw[i+2] == 'u' {
					if pair := utf16.DecodeRune(r, hex4(raw[i+3:i+7])); pair != utf8.RuneError {
						r = pair
						i += 6
					} else {
						r = utf8.RuneError
					}
				} else {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
		default: // " \ /
			out = append(out, raw[i])
		}
	}
	return string(out)
}

func hex4(b []byte) rune {
	var r rune
	for _, c := range b {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		default:
			r |= rune(c - 'A' + 10)
		}
	}
	return r
}

// object reads an object, calling member for each key with the reader at
// the member's value; member must consume the value.
func (r *reader) object(member func(key []byte) error) error {
	if r.peek() != '{' {
		return r.unexpected("an object")
	}
	r.depth++
	if r.depth > maxDepth {
		return r.fail("nesting is too deep")
	}
	r.pos++
	if r.peek() == '}' {
		r.pos++
		r.depth--
		return nil
	}
	for {
		if r.peek() != '"' {
			return r.unexpected("a string key")
		}
		key, escaped, err := r.rawString()
		if err != nil {
			return err
		}
		if escaped {
			key = []byte(unescape(key))
		}
		if r.peek() != ':' {
			return r.unexpected("':' after an object key")
		}
		r.pos++
		r.ws()
		if err := member(key); err != nil {
			return err
		}
		switch r.peek() {
		case ',':
			r.pos++
		case '}':
			r.pos++
			r.depth--
			return nil
		default:
			return r.unexpected("',' or '}' in an object")
		}
	}
}

// array reads an array, calling element for each element.
func (r *reader) array(element func(i int) error) error {
	if r.peek() != '[' {
		return r.unexpected("an array")
	}
	r.depth++
	if r.depth > maxDepth {
		return r.fail("nesting is too deep")
	}
	r.pos++
	if r.peek() == ']' {
		r.pos++
		r.depth--
		return nil
	}
	for i := 0; ; i++ {
		r.ws()
		if err := element(i); err != nil {
			return err
		}
		switch r.peek() {
		case ',':
			r.pos++
		case ']':
			r.pos++
			r.depth--
			return nil
		default:
			return r.unexpected("',' or ']' in an array")
		}
	}
}

// Field readers. A value of the wrong type is skipped and recorded in fe
// under the field's name; only malformed JSON stops the reading.

func (r *reader) stringField(name string, dst *string, fe alinea.FieldErrors) error {
	switch b := r.peek(); b {
	case '"':
		s, err := r.str()
		*dst = s
		return err
	case 'n':
		return r.literal("null")
	default:
		fe.Add(name, "must be a string, not "+kindName(b))
		return r.skip()
	}
}

// idField reads an identifier, which Segment's libraries may send as a
// string or as a number (a database id passed through untouched).
func (r *reader) idField(name string, dst *string, fe alinea.FieldErrors) error {
	switch b := r.peek(); {
	case b == '"':
		s, err := r.str()
		*dst = s
		return err
	case b == '-' || isDigit(b):
		start := r.pos
		err := r.number()
		*dst = string(r.data[start:r.pos])
		return err
	case b == 'n':
		return r.literal("null")
	default:
		fe.Add(name, "must be a string or a number, not "+kindName(b))
		return r.skip()
	}
}

// objectField keeps an object's JSON text; null leaves dst empty.
func (r *reader) objectField(name string, dst *json.RawMessage, fe alinea.FieldErrors) error {
	switch b := r.peek(); b {
	case '{':
		start := r.pos
		if err := r.skip(); err != nil {
			return err
		}
		*dst = r.data[start:r.pos]
		return nil
	case 'n':
		return r.literal("null")
	default:
		fe.Add(name, "must be a JSON object, not "+kindName(b))
		return r.skip()
	}
}

// wireCall is one call as Segment's libraries send it. Fields Alinea does not
// use (integrations, _metadata, version, channel...) are validated and
// ignored, as Segment does; a client's receivedAt is ignored too: the
// server's clock sets it.
type wireCall struct {
	Type              string
	MessageID         string
	UserID            string
	AnonymousID       string
	Event             string
	Name              string
	Category          string
	GroupID           string
	PreviousID        string
	Timestamp         string
	OriginalTimestamp string
	SentAt            string
	Properties        json.RawMessage
	Traits            json.RawMessage
	Context           json.RawMessage
	WriteKey          string
}

// call reads one call object into c; fields of the wrong type go to fe.
func (r *reader) call(c *wireCall, fe alinea.FieldErrors) error {
	return r.object(func(key []byte) error {
		switch string(key) {
		case "type":
			return r.stringField("type", &c.Type, fe)
		case "messageId":
			return r.idField("messageId", &c.MessageID, fe)
		case "userId":
			return r.idField("userId", &c.UserID, fe)
		case "anonymousId":
			return r.idField("anonymousId", &c.AnonymousID, fe)
		case "event":
			return r.stringField("event", &c.Event, fe)
		case "name":
			return r.stringField("name", &c.Name, fe)
		case "category":
			return r.stringField("category", &c.Category, fe)
		case "groupId":
			return r.idField("groupId", &c.GroupID, fe)
		case "previousId":
			return r.idField("previousId", &c.PreviousID, fe)
		case "timestamp":
			return r.stringField("timestamp", &c.Timestamp, fe)
		case "originalTimestamp":
			return r.stringField("originalTimestamp", &c.OriginalTimestamp, fe)
		case "sentAt":
			return r.stringField("sentAt", &c.SentAt, fe)
		case "properties":
			return r.objectField("properties", &c.Properties, fe)
		case "traits":
			return r.objectField("traits", &c.Traits, fe)
		case "context":
			return r.objectField("context", &c.Context, fe)
		case "writeKey":
			return r.stringField("writeKey", &c.WriteKey, fe)
		}
		return r.skip()
	})
}

// batchItem is one element of a batch as read, before validation.
type batchItem struct {
	call      wireCall
	raw       []byte
	problems  alinea.FieldErrors
	notObject string // the JSON type of an element that is not an object
}

// wireBatch is the body of /v1/batch, /v1/import and /v1/b. Context given
// here applies to every call of the batch.
type wireBatch struct {
	items    []batchItem
	hasBatch bool
	context  json.RawMessage
	sentAt   string
	writeKey string
}

func (r *reader) batch(w *wireBatch, fe alinea.FieldErrors) error {
	return r.object(func(key []byte) error {
		switch string(key) {
		case "batch":
			if b := r.peek(); b != '[' {
				if b != 'n' {
					fe.Add("batch", "must be an array of calls, not "+kindName(b))
				}
				return r.skip()
			}
			w.hasBatch = true
			w.items = w.items[:0]
			return r.array(func(int) error {
				start := r.pos
				w.items = append(w.items, batchItem{})
				it := &w.items[len(w.items)-1]
				var err error
				if b := r.peek(); b != '{' {
					it.notObject = kindName(b)
					err = r.skip()
				} else {
					it.problems = alinea.FieldErrors{}
					err = r.call(&it.call, it.problems)
				}
				it.raw = r.data[start:r.pos]
				return err
			})
		case "context":
			return r.objectField("context", &w.context, fe)
		case "sentAt":
			return r.stringField("sentAt", &w.sentAt, fe)
		case "writeKey":
			return r.stringField("writeKey", &w.writeKey, fe)
		}
		return r.skip()
	})
}

// wireContext is the part of context Alinea reads. The page's address is
// decoded only when the campaign is missing.
type wireContext struct {
	campaign alinea.UTM
	hasPage  bool
	pageURL  lazyString
	search   lazyString
	traits   json.RawMessage
}

// lazyString is a string value still in its JSON form.
type lazyString struct {
	raw     []byte
	escaped bool
}

func (l lazyString) String() string {
	if l.escaped {
		return unescape(l.raw)
	}
	return string(l.raw)
}

func (r *reader) lazyStringField(dst *lazyString) error {
	if r.peek() != '"' {
		return r.skip()
	}
	raw, escaped, err := r.rawString()
	*dst = lazyString{raw: raw, escaped: escaped}
	return err
}

// readContext picks the campaign, page address and traits out of a context
// object that has already been validated. Context is free-form: a field of
// an unexpected type there costs the UTM parameters at most, never the call.
func readContext(raw json.RawMessage) wireContext {
	var c wireContext
	if len(raw) == 0 {
		return c
	}
	ignore := alinea.FieldErrors{}
	r := &reader{data: raw}
	_ = r.object(func(key []byte) error {
		switch string(key) {
		case "campaign":
			if r.peek() != '{' {
				return r.skip()
			}
			return r.object(func(key []byte) error {
				switch string(key) {
				case "source":
					return r.stringField("", &c.campaign.Source, ignore)
				case "medium":
					return r.stringField("", &c.campaign.Medium, ignore)
				case "name":
					return r.stringField("", &c.campaign.Campaign, ignore)
				case "term":
					return r.stringField("", &c.campaign.Term, ignore)
				case "content":
					return r.stringField("", &c.campaign.Content, ignore)
				}
				return r.skip()
			})
		case "page":
			if r.peek() != '{' {
				return r.skip()
			}
			c.hasPage = true
			return r.object(func(key []byte) error {
				switch string(key) {
				case "url":
					return r.lazyStringField(&c.pageURL)
				case "search":
					return r.lazyStringField(&c.search)
				}
				return r.skip()
			})
		case "traits":
			return r.objectField("", &c.traits, ignore)
		}
		return r.skip()
	})
	return c
}

// validUTF8 guards the database: PostgreSQL refuses text that is not UTF-8.
func validUTF8(b []byte) bool { return utf8.Valid(b) }

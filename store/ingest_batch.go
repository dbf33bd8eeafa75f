package store

import (
	"cmp"
	"encoding/json"
	"slices"
	"strings"

	"github.com/alinea-crm/alinea"
)

// ingestBatch is a batch of messages with the work that needs no database
// already done: traits parsed, the ids to look up collected, and the event
// rows built except for their contact. prepareBatch runs in the caller's
// goroutine, so on SQLite this work stays off the single writer.
type ingestBatch struct {
	writeKeyID int64
	msgs       []alinea.Message
	info       []msgInfo
	// users, anons and emails are the distinct user ids, anonymous ids and
	// identify email traits of the batch, in order of first appearance.
	users, anons, emails []string
	// messageIDs are the batch's distinct message ids.
	messageIDs []string

	// sqliteArgs holds the events' insert arguments, eventInsertColumns a
	// message, with the contact (column eventContactColumn) left for the
	// writer; pgEvents the same rows as column arrays.
	sqliteArgs []any
	pgEvents   *eventArrays

	// mayHaveDuplicates says that the batch repeats a message id, within
	// itself or (found on a first try) of a stored event; on PostgreSQL
	// its events are then inserted with ON CONFLICT.
	mayHaveDuplicates bool

	// pre is what a look-up on a read connection found before the batch
	// reached SQLite's writer (nil: none, the writer looks everything up).
	pre *preResolved
}

// msgInfo is what prepareBatch works out about one message.
type msgInfo struct {
	traits map[string]any // identify traits
	email  string         // the identify call's normalised email trait
	occ    int64          // occurred_at
}

// eventInsertColumns is the number of values an event row takes, in the
// order of eventColumnList; the contact is the one at eventContactColumn.
const (
	eventInsertColumns = 16
	eventContactColumn = 4
	eventColumnList    = `message_id, write_key_id, type, name, contact_id, anonymous_id, user_id, properties, context,
	utm_source, utm_medium, utm_campaign, utm_term, utm_content, occurred_at, received_at`
)

// eventArrays are event rows as PostgreSQL arrays, one per column, so that a
// batch is inserted with one statement whose text never changes.
type eventArrays struct {
	messageID, typ, name, anonymousID, userID, properties, context []string
	utmSource, utmMedium, utmCampaign, utmTerm, utmContent         []string
	contact, occurredAt, receivedAt                                []int64
}

func (s *Store) prepareBatch(writeKeyID int64, msgs []alinea.Message) *ingestBatch {
	now := ms(s.now())
	p := &ingestBatch{writeKeyID: writeKeyID, msgs: msgs, info: make([]msgInfo, len(msgs))}
	seen := make(map[string]bool, 2*len(msgs))
	addOnce := func(list *[]string, kind byte, id string) {
		if id == "" {
			return
		}
		// One map serves all the lists: the kind byte keeps them apart.
		key := string(kind) + id
		if !seen[key] {
			seen[key] = true
			*list = append(*list, id)
		}
	}
	for i := range msgs {
		m, info := &msgs[i], &p.info[i]
		if m.Type == "identify" && len(m.Traits) > 0 {
			_ = json.Unmarshal(m.Traits, &info.traits)
			if e, ok := info.traits["email"].(string); ok {
				if norm, err := alinea.NormalizeEmail(e); err == nil {
					info.email = norm
				}
			}
		}
		occ := m.Timestamp
		if occ.IsZero() {
			occ = m.ReceivedAt
		}
		info.occ = ms(occ)
		if seen["m"+m.MessageID] {
			p.mayHaveDuplicates = true
		} else {
			seen["m"+m.MessageID] = true
			p.messageIDs = append(p.messageIDs, m.MessageID)
		}
		addOnce(&p.users, 'u', m.UserID)
		addOnce(&p.emails, 'e', info.email)
		addOnce(&p.anons, 'a', m.AnonymousID)
		addOnce(&p.anons, 'a', m.PreviousID)
	}
	if s.backend == Postgres {
		p.pgEvents = eventRowArrays(msgs, p.info, now)
	} else {
		p.sqliteArgs = eventRowArgs(writeKeyID, msgs, p.info, now)
	}
	return p
}

func receivedAt(m *alinea.Message, now int64) int64 {
	if m.ReceivedAt.IsZero() {
		return now
	}
	return ms(m.ReceivedAt)
}

func eventRowArgs(writeKeyID int64, msgs []alinea.Message, info []msgInfo, now int64) []any {
	args := make([]any, 0, len(msgs)*eventInsertColumns)
	key := nullID(writeKeyID)
	for i := range msgs {
		m := &msgs[i]
		args = append(args, m.MessageID, key, m.Type, m.Event, nil, m.AnonymousID, m.UserID,
			jsonOr(m.Properties), jsonOr(m.Context), m.UTM.Source, m.UTM.Medium, m.UTM.Campaign, m.UTM.Term, m.UTM.Content,
			info[i].occ, receivedAt(m, now))
	}
	return args
}

func eventRowArrays(msgs []alinea.Message, info []msgInfo, now int64) *eventArrays {
	n := len(msgs)
	col := func() []string { return make([]string, n) }
	a := &eventArrays{messageID: col(), typ: col(), name: col(), anonymousID: col(), userID: col(), properties: col(), context: col(),
		utmSource: col(), utmMedium: col(), utmCampaign: col(), utmTerm: col(), utmContent: col(),
		contact: make([]int64, n), occurredAt: make([]int64, n), receivedAt: make([]int64, n)}
	for i := range msgs {
		m := &msgs[i]
		a.messageID[i], a.typ[i], a.name[i], a.anonymousID[i], a.userID[i] = m.MessageID, m.Type, m.Event, m.AnonymousID, m.UserID
		a.properties[i], a.context[i] = jsonOr(m.Properties), jsonOr(m.Context)
		a.utmSource[i], a.utmMedium[i], a.utmCampaign[i], a.utmTerm[i], a.utmContent[i] = m.UTM.Source, m.UTM.Medium, m.UTM.Campaign, m.UTM.Term, m.UTM.Content
		a.occurredAt[i], a.receivedAt[i] = info[i].occ, receivedAt(m, now)
	}
	return a
}

// activity sums the activity summaries' changes per contact and event type.
type activity map[activityKey]*activityDelta

type activityKey struct {
	contact int64
	typ     string
}

type activityDelta struct {
	count       int64
	first, last int64
}

func (a activity) add(contact int64, typ string, count, first, last int64) {
	k := activityKey{contact, typ}
	d := a[k]
	if d == nil {
		a[k] = &activityDelta{count: count, first: first, last: last}
		return
	}
	d.count += count
	d.first = min(d.first, first)
	d.last = max(d.last, last)
}

// merge adds other's changes to a and returns the sum; a may be nil.
func (a activity) merge(other activity) activity {
	if a == nil {
		return other
	}
	for k, d := range other {
		a.add(k.contact, k.typ, d.count, d.first, d.last)
	}
	return a
}

// sortedKeys orders the keys so that concurrent batches touching the same
// rows lock them in the same order (PostgreSQL) and the b-tree is walked
// in order (SQLite).
func (a activity) sortedKeys() []activityKey {
	keys := make([]activityKey, 0, len(a))
	for k := range a {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y activityKey) int {
		return cmp.Or(cmp.Compare(x.contact, y.contact), strings.Compare(x.typ, y.typ))
	})
	return keys
}

// statementSizes splits n rows into statements of maxRows rows (a power
// of two) and the rest in smaller powers of two, so that a few statement
// texts, each prepared once and cached, serve any n.
func statementSizes(n, maxRows int) []int {
	var sizes []int
	for size := maxRows; size > 0; size /= 2 {
		for ; n >= size; n -= size {
			sizes = append(sizes, size)
		}
	}
	return sizes
}

// valuesSQL returns "prefix (?,...),(?,...) suffix" for rows rows of
// columns values each.
func valuesSQL(prefix string, rows, columns int, suffix string) string {
	row := "(?" + strings.Repeat(",?", columns-1) + ")"
	var q strings.Builder
	q.Grow(len(prefix) + rows*(len(row)+1) + len(suffix) + 2)
	q.WriteString(prefix)
	q.WriteByte(' ')
	for i := range rows {
		if i > 0 {
			q.WriteByte(',')
		}
		q.WriteString(row)
	}
	q.WriteByte(' ')
	q.WriteString(suffix)
	return q.String()
}

package store

// On SQLite the index that finds a contact's events leads with the
// event's bucket of 65,536 ids (events.bucket, migration 00021), so that
// new events only touch the newest bucket's pages. A query for a
// contact's events asks for it in every bucket listed in event_buckets (a
// trigger adds each new one): put eventBuckets before its contact_id
// condition. PostgreSQL keeps its (contact_id, occurred_at) index: its
// batches write in parallel and did not pay for that index the way
// SQLite's single writer did.

// eventBuckets returns the condition that lets SQLite look a contact's
// events up through events_contact_bucket, one look-up per bucket; alias
// is the events table's alias with its dot ("e.") or "". Empty on
// PostgreSQL. A join uses joinContactEvents instead.
func (s *Store) eventBuckets(alias string) string {
	if s.backend != SQLite {
		return ""
	}
	return alias + "bucket IN (SELECT bucket FROM event_buckets) AND "
}

// joinContactEvents joins the events table, as alias, to the tables
// before it; the caller's ON conditions follow, starting with the
// contact. On SQLite it walks the buckets between the outer table and
// events, so that each row of the outer table looks its contact up once
// per bucket: asked with eventBuckets in the ON clause, SQLite's planner
// built a temporary index of all events instead.
func (s *Store) joinContactEvents(alias string) string {
	if s.backend != SQLite {
		return "JOIN events " + alias + " ON "
	}
	return "CROSS JOIN event_buckets " + alias + "_b CROSS JOIN events " + alias + " ON " + alias + ".bucket = " + alias + "_b.bucket AND "
}

package store

import (
	"context"
	"database/sql"
	"fmt"
)

// On SQLite one goroutine writes every batch (ingest_sqlite.go), so what
// it does not have to do raises the ingestion ceiling. Looking a batch's
// user ids, anonymous ids and emails up took a sixth of its time; it is
// done instead in the request's goroutine, on a read connection, before
// the batch is queued (preResolve). The writer then looks up again only
// what was not found — a contact or link made meanwhile, by another batch
// of the same group say — and trusts what was found as long as nothing
// changed it: deleting a contact or an anonymous id's link, or changing a
// contact's user id or email from one value to another, bumps
// ingest_generation (migration 00017's triggers), and a look-up read under
// another generation is thrown away and done again by the writer.

// preResolved is what a batch's look-up on a read connection found.
type preResolved struct {
	generation int64
	byUser     map[string]int64
	byAnon     map[string]int64
	byEmail    map[string]int64
	// indexedIDs are the batch's message ids found in event_message_ids,
	// read after the writer's moves-th move of ids from memory.
	indexedIDs map[string]bool
	moves      int64
}

// preResolve looks the batch's ids up on a read connection, with the
// generation they were read under (one statement: one snapshot), and its
// message ids in event_message_ids. A failed look-up is not an error: the
// writer then does it all.
func (s *Store) preResolve(ctx context.Context, batch *ingestBatch) {
	// Read before the statement: a move of message ids the snapshot does
	// not see is then one the writer knows to look up again for.
	moves := s.ingest.ids.moves.Load()
	query, args := sqliteLookup(lookupList{userLookup, batch.users}, lookupList{anonLookup, batch.anons},
		lookupList{emailLookup, batch.emails}, lookupList{messageIDLookup, batch.messageIDs})
	if query == "" {
		return
	}
	rows, err := s.rdb.QueryContext(ctx, `SELECT 'g', '', n FROM ingest_generation UNION ALL `+query, args...)
	if err != nil {
		s.log.Debug("ingest: look-up before the writer failed", "err", err)
		return
	}
	defer rows.Close()
	p := &preResolved{generation: -1, byUser: map[string]int64{}, byAnon: map[string]int64{}, byEmail: map[string]int64{},
		moves: moves, indexedIDs: map[string]bool{}}
	for rows.Next() {
		var kind, key string
		var id int64
		if err := rows.Scan(&kind, &key, &id); err != nil {
			return
		}
		switch kind {
		case "g":
			p.generation = id
		case "u":
			p.byUser[key] = id
		case "a":
			p.byAnon[key] = id
		case "e":
			p.byEmail[key] = id
		case "m":
			p.indexedIDs[key] = true
		}
	}
	if rows.Err() != nil || p.generation < 0 {
		return
	}
	batch.pre = p
}

// prefetchSQLite gives the writer's batch state the contacts of the
// batch's ids: from the look-up made before the batch was queued when the
// generation has not moved since, plus a look-up of the ids it did not
// find; otherwise by looking them all up.
func (s *Store) prefetchSQLite(ctx context.Context, tx *sql.Tx, b *batchState, batch *ingestBatch) error {
	p := batch.pre
	if p != nil {
		var generation int64
		if err := tx.QueryRowContext(ctx, `SELECT n FROM ingest_generation`).Scan(&generation); err != nil {
			return fmt.Errorf("ingest: read the generation of contact keys: %w", err)
		}
		if generation != p.generation {
			p = nil
		}
	}
	if p == nil {
		return s.prefetch(ctx, tx, b, batch.users, batch.anons, batch.emails)
	}
	var users, anons, emails []string
	for _, u := range batch.users {
		if id, ok := p.byUser[u]; ok {
			b.byUser[u] = id
			delete(b.absentUsers, u)
		} else {
			users = append(users, u)
		}
	}
	for _, a := range batch.anons {
		if id, ok := p.byAnon[a]; ok {
			b.byAnon[a] = id
		} else {
			anons = append(anons, a)
		}
	}
	for _, e := range batch.emails {
		if id, ok := p.byEmail[e]; ok {
			b.byEmail[e] = id
			delete(b.freeEmails, e)
		} else {
			emails = append(emails, e)
		}
	}
	return s.prefetch(ctx, tx, b, users, anons, emails)
}

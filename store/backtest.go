package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/alinea-crm/alinea/agreement"
)

// backtestChunk is how many contacts one pass reads at a time: enough to
// keep queries few, small enough to keep memory flat.
const backtestChunk = 2000

// Backtest replays every contact's history up to `to` under the given
// versions and returns one report per version. Contacts are read in id
// chunks, each with one scan of its events, so memory stays flat; reading the
// next chunk overlaps with replaying the current one.
func (s *Store) Backtest(ctx context.Context, b *agreement.Backtest) ([]agreement.Report, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	chunks := make(chan []*agreement.ContactHistory, 2)
	readErr := make(chan error, 1)
	go func() {
		defer close(chunks)
		var after int64
		for {
			ids, err := s.contactIDsAfter(ctx, after, backtestChunk)
			if err != nil || len(ids) == 0 {
				readErr <- err
				return
			}
			hist, err := s.histories(ctx, ids, b.To, b.Currency)
			if err != nil {
				readErr <- err
				return
			}
			chunk := make([]*agreement.ContactHistory, 0, len(ids))
			for _, id := range ids {
				chunk = append(chunk, hist[id])
			}
			select {
			case chunks <- chunk:
			case <-ctx.Done():
				readErr <- ctx.Err()
				return
			}
			after = ids[len(ids)-1]
		}
	}()
	for chunk := range chunks {
		for _, h := range chunk {
			b.Add(*h)
		}
	}
	if err := <-readErr; err != nil {
		return nil, err
	}
	return b.Reports(), nil
}

func (s *Store) contactIDsAfter(ctx context.Context, after int64, n int) ([]int64, error) {
	rows, err := s.rdb.QueryContext(ctx, s.q(`SELECT id FROM contacts WHERE id > ? ORDER BY id LIMIT ?`), after, n)
	if err != nil {
		return nil, fmt.Errorf("contacts: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("contacts: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// histories loads facts, events before `to` and won deals of a chunk of
// contacts (ids ascending) with three range queries.
func (s *Store) histories(ctx context.Context, ids []int64, to time.Time, currency string) (map[int64]*agreement.ContactHistory, error) {
	from, last := ids[0], ids[len(ids)-1]
	out := make(map[int64]*agreement.ContactHistory, len(ids))
	rows, err := s.rdb.QueryContext(ctx, s.q(`SELECT c.id, c.email, c.first_name, c.last_name, c.job_title, c.phone, c.country, c.source, c.stage, c.consent,
		c.properties, a.name, a.domain, a.industry, a.employees, a.country, a.properties
		FROM contacts c LEFT JOIN accounts a ON a.id = c.account_id WHERE c.id >= ? AND c.id <= ?`), from, last)
	if err != nil {
		return nil, fmt.Errorf("backtest contacts: %w", err)
	}
	for rows.Next() {
		h := &agreement.ContactHistory{}
		var email, props, accName, accDomain, accIndustry, accCountry, accProps sql.NullString
		var employees sql.NullInt64
		f := &h.Contact
		if err := rows.Scan(&h.ContactID, &email, &f.FirstName, &f.LastName, &f.JobTitle, &f.Phone, &f.Country, &f.Source, &f.Stage, &f.Consent,
			&props, &accName, &accDomain, &accIndustry, &employees, &accCountry, &accProps); err != nil {
			rows.Close()
			return nil, fmt.Errorf("backtest contacts: %w", err)
		}
		f.Email = email.String
		_ = json.Unmarshal([]byte(props.String), &f.Properties)
		h.Account = agreement.AccountFacts{Name: accName.String, Domain: accDomain.String, Industry: accIndustry.String,
			Employees: int(employees.Int64), Country: accCountry.String}
		if accProps.Valid {
			_ = json.Unmarshal([]byte(accProps.String), &h.Account.Properties)
		}
		out[h.ContactID] = h
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("backtest contacts: %w", err)
	}
	rows, err = s.rdb.QueryContext(ctx, s.q(`SELECT contact_id, type, name, occurred_at FROM events
		WHERE `+s.eventBuckets("")+`contact_id >= ? AND contact_id <= ? AND occurred_at < ? ORDER BY contact_id, occurred_at`), from, last, ms(to))
	if err != nil {
		return nil, fmt.Errorf("backtest events: %w", err)
	}
	for rows.Next() {
		var id, at int64
		var typ, name string
		if err := rows.Scan(&id, &typ, &name, &at); err != nil {
			rows.Close()
			return nil, fmt.Errorf("backtest events: %w", err)
		}
		if h := out[id]; h != nil {
			h.Events = append(h.Events, agreement.HistoryEvent{Type: activityKeyOf(typ, name), At: fromMS(at)})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("backtest events: %w", err)
	}
	rows, err = s.rdb.QueryContext(ctx, s.q(`SELECT dc.contact_id, d.id, d.closed_at, d.amount FROM deal_contacts dc JOIN deals d ON d.id = dc.deal_id
		WHERE dc.contact_id >= ? AND dc.contact_id <= ? AND d.status = 'won' AND d.closed_at IS NOT NULL AND d.currency = ?`), from, last, currency)
	if err != nil {
		return nil, fmt.Errorf("backtest deals: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, deal, closed, amount int64
		if err := rows.Scan(&id, &deal, &closed, &amount); err != nil {
			return nil, fmt.Errorf("backtest deals: %w", err)
		}
		if h := out[id]; h != nil {
			h.Won = append(h.Won, agreement.WonDeal{DealID: deal, ClosedAt: fromMS(closed), Amount: amount})
		}
	}
	return out, rows.Err()
}

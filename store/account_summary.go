package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/alinea-crm/alinea"
)

// Amount is a sum of money in one currency, in minor units. Sums are kept
// per currency: Alinea has no exchange rates.
type Amount struct {
	Currency string
	Minor    int64
}

// AccountTotals is what the accounts list shows next to each account.
type AccountTotals struct {
	Contacts int64
	// Open is the amount of the open deals per currency, largest first.
	Open []Amount
}

// AccountTotals returns the contact count and open pipeline of the given
// accounts, for a page of the accounts list. Both are read through the
// account_id indexes of contacts and deals, so a page costs the same
// however many accounts there are. Accounts without contacts or deals are
// absent.
func (s *Store) AccountTotals(ctx context.Context, ids []int64) (map[int64]AccountTotals, error) {
	out := make(map[int64]AccountTotals, len(ids))
	err := s.byIDs(ctx, `SELECT account_id, COUNT(*) FROM contacts WHERE account_id IN (%s) GROUP BY account_id`, ids, func(scan func(...any) error) error {
		var id, n int64
		if err := scan(&id, &n); err != nil {
			return err
		}
		t := out[id]
		t.Contacts = n
		out[id] = t
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("contacts of accounts: %w", err)
	}
	err = s.byIDs(ctx, `SELECT account_id, currency, CAST(SUM(amount) AS BIGINT) FROM deals WHERE account_id IN (%s) AND status = 'open' GROUP BY account_id, currency`, ids, func(scan func(...any) error) error {
		var id int64
		var a Amount
		if err := scan(&id, &a.Currency, &a.Minor); err != nil {
			return err
		}
		t := out[id]
		t.Open = append(t.Open, a)
		out[id] = t
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("open pipeline of accounts: %w", err)
	}
	for id, t := range out {
		sortAmounts(t.Open)
		out[id] = t
	}
	return out, nil
}

// AccountSummary is an account's funnel and revenue at a glance.
type AccountSummary struct {
	// Stages counts the account's contacts per lifecycle stage.
	Stages   map[alinea.Stage]int64
	Contacts int64
	// Open, Won and Lost are the deals' amounts per currency, largest
	// first; the counts are numbers of deals.
	Open, Won, Lost                []Amount
	OpenDeals, WonDeals, LostDeals int64
}

// AccountSummary counts an account's contacts per stage and sums its deals
// by status. An unknown account is ENOTFOUND.
func (s *Store) AccountSummary(ctx context.Context, id int64) (AccountSummary, error) {
	if _, err := s.accountTx(ctx, s.rdb, id); err != nil {
		return AccountSummary{}, err
	}
	sum := AccountSummary{Stages: map[alinea.Stage]int64{}}
	rows, err := s.rdb.QueryContext(ctx, s.q(`SELECT stage, COUNT(*) FROM contacts WHERE account_id = ? GROUP BY stage`), id)
	if err != nil {
		return sum, fmt.Errorf("contacts of account %d: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var stage alinea.Stage
		var n int64
		if err := rows.Scan(&stage, &n); err != nil {
			return sum, fmt.Errorf("contacts of account %d: %w", id, err)
		}
		sum.Stages[stage] = n
		sum.Contacts += n
	}
	if err := rows.Err(); err != nil {
		return sum, fmt.Errorf("contacts of account %d: %w", id, err)
	}
	rows.Close()

	deals, err := s.rdb.QueryContext(ctx, s.q(`SELECT status, currency, COUNT(*), CAST(SUM(amount) AS BIGINT) FROM deals WHERE account_id = ? GROUP BY status, currency`), id)
	if err != nil {
		return sum, fmt.Errorf("deals of account %d: %w", id, err)
	}
	defer deals.Close()
	for deals.Next() {
		var status alinea.DealStatus
		var a Amount
		var n int64
		if err := deals.Scan(&status, &a.Currency, &n, &a.Minor); err != nil {
			return sum, fmt.Errorf("deals of account %d: %w", id, err)
		}
		switch status {
		case alinea.DealOpen:
			sum.Open, sum.OpenDeals = append(sum.Open, a), sum.OpenDeals+n
		case alinea.DealWon:
			sum.Won, sum.WonDeals = append(sum.Won, a), sum.WonDeals+n
		case alinea.DealLost:
			sum.Lost, sum.LostDeals = append(sum.Lost, a), sum.LostDeals+n
		}
	}
	if err := deals.Err(); err != nil {
		return sum, fmt.Errorf("deals of account %d: %w", id, err)
	}
	sortAmounts(sum.Open)
	sortAmounts(sum.Won)
	sortAmounts(sum.Lost)
	return sum, nil
}

func sortAmounts(as []Amount) {
	slices.SortFunc(as, func(a, b Amount) int {
		if c := cmp.Compare(b.Minor, a.Minor); c != 0 {
			return c
		}
		return cmp.Compare(a.Currency, b.Currency)
	})
}

// AccountFacets are the values the accounts list can be filtered by.
type AccountFacets struct {
	Industries []string
	Countries  []string
}

// AccountFacets returns the distinct non-empty industries and countries of
// the accounts, sorted. Each value is found with one index seek from the
// previous one (a loose index scan), so the cost grows with the number of
// distinct values, not of accounts.
func (s *Store) AccountFacets(ctx context.Context) (AccountFacets, error) {
	var f AccountFacets
	var err error
	if f.Industries, err = s.distinctAccountValues(ctx, "industry"); err != nil {
		return f, err
	}
	if f.Countries, err = s.distinctAccountValues(ctx, "country"); err != nil {
		return f, err
	}
	return f, nil
}

// distinctAccountValues walks an indexed column of accounts; column is a
// constant of the caller, never input.
func (s *Store) distinctAccountValues(ctx context.Context, column string) ([]string, error) {
	q := `WITH RECURSIVE v(x) AS (
		SELECT MIN(` + column + `) FROM accounts WHERE ` + column + ` > ''
		UNION ALL
		SELECT (SELECT MIN(` + column + `) FROM accounts WHERE ` + column + ` > v.x) FROM v WHERE v.x IS NOT NULL
	) SELECT x FROM v WHERE x IS NOT NULL`
	rows, err := s.rdb.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("distinct account %s: %w", column, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("distinct account %s: %w", column, err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

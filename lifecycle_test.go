package alinea

import "testing"

func TestCheckTransition(t *testing.T) {
	tests := []struct {
		from, to Stage
		reason   string
		code     string // "" = allowed
		field    string
	}{
		{"", StageLead, "", "", ""},
		{StageLead, StageMQL, "", "", ""},
		{StageLead, StageSQL, "", "", ""}, // skipping forward is fine
		{StageSQL, StageMQL, "", EINVALID, "to"},
		{StageCustomer, StageLead, "", EINVALID, "to"},
		{StageMQL, StageRecycled, "", EINVALID, "reason"},
		{StageMQL, StageRecycled, "no budget", "", ""},
		{StageSQL, StageDisqualified, "", EINVALID, "reason"},
		{StageRecycled, StageMQL, "", "", ""}, // re-qualifying
		{StageDisqualified, StageLead, "", "", ""},
		{StageMQL, StageMQL, "", ECONFLICT, "to"},
		{StageLead, "prospect", "", EINVALID, "stage"},
	}
	for _, tt := range tests {
		err := CheckTransition(tt.from, tt.to, tt.reason)
		if tt.code == "" {
			if err != nil {
				t.Errorf("%s -> %s (%q): %v, want allowed", tt.from, tt.to, tt.reason, err)
			}
			continue
		}
		if ErrorCode(err) != tt.code || ErrorFields(err)[tt.field] == "" {
			t.Errorf("%s -> %s (%q): %v, want %s naming %s", tt.from, tt.to, tt.reason, err, tt.code, tt.field)
		}
	}
}

func TestModesAndWhoMovesContacts(t *testing.T) {
	modes := map[Stage]Mode{StageSubscriber: ModeInformation, StageLead: ModeInformation, StageMQL: ModeInformation, StageRecycled: ModeInformation,
		StageSAL: ModeBuy, StageSQL: ModeBuy, StageOpportunity: ModeBuy, StageCustomer: ModeCustomer, StageEvangelist: ModeCustomer, StageDisqualified: ModeClosed}
	for s, m := range modes {
		if s.Mode() != m {
			t.Errorf("%s is in mode %s, want %s", s, s.Mode(), m)
		}
	}
	moves := []struct {
		role Role
		to   Stage
		ok   bool
	}{
		{RoleMarketing, StageMQL, true},
		{RoleMarketing, StageSQL, false},
		{RoleMarketing, StageDisqualified, true},
		{RoleSales, StageSQL, true},
		{RoleSales, StageRecycled, true},
		{RoleSales, StageLead, false},
		{RoleManager, StageLead, true},
		{RoleAdmin, StageCustomer, true},
	}
	for _, m := range moves {
		if got := CanMoveTo(m.role, m.to); got != m.ok {
			t.Errorf("CanMoveTo(%s, %s) = %v, want %v", m.role, m.to, got, m.ok)
		}
	}
}

func TestAbsenceValidate(t *testing.T) {
	long := make([]rune, 501)
	for i := range long {
		long[i] = 'ñ'
	}
	tests := []struct {
		a     Absence
		field string // "" = valid
	}{
		{Absence{StartsOn: "2027-08-01", EndsOn: "2027-08-15"}, ""},
		{Absence{StartsOn: "2027-08-01", EndsOn: "2027-08-01"}, ""},
		{Absence{StartsOn: "2027-08-15", EndsOn: "2027-08-01"}, "ends_on"},
		{Absence{StartsOn: "1 Aug", EndsOn: "2027-08-15"}, "starts_on"},
		{Absence{StartsOn: "2027-08-01", EndsOn: "2027-02-30"}, "ends_on"},
		{Absence{StartsOn: "2027-08-01", EndsOn: "2027-08-02", Note: string(long[:500])}, ""}, // 500 characters, 1,000 bytes
		{Absence{StartsOn: "2027-08-01", EndsOn: "2027-08-02", Note: string(long)}, "note"},
	}
	for _, tt := range tests {
		err := tt.a.Validate()
		if tt.field == "" && err != nil {
			t.Errorf("%+v: %v, want valid", tt.a, err)
		}
		if tt.field != "" && ErrorFields(err)[tt.field] == "" {
			t.Errorf("%+v: %v, want a problem with %s", tt.a, err, tt.field)
		}
	}
}

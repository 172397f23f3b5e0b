package main

import (
	"testing"

	"github.com/stretchr/testify/assert"

	loyalty "github.com/loyaltycards/loyalty-go"
)

// TestEveryActionHasASpec keeps the command's table in step with the SDK's actions: one an
// SDK adds fails here until the command can apply it.
func TestEveryActionHasASpec(t *testing.T) {
	t.Parallel()
	seen := map[loyalty.Action]int{}
	names := map[string]bool{}
	for _, s := range actionSpecs {
		seen[s.action]++
		for _, n := range []string{s.name(), s.alias} {
			if n != "" {
				assert.False(t, names[n], "%s names two actions", n)
				names[n] = true
			}
		}
	}
	for _, a := range loyalty.Actions() {
		assert.Equal(t, 1, seen[a], "%s has one spec", a)
	}
	assert.Len(t, actionSpecs, len(loyalty.Actions())+1, "and clear-expiration-date")
}

func TestBindActionRefusesWhatIsWrongBeforeAnyClient(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		argv []string
		want string
	}{
		{"fly", nil, `no card action "fly"`},
		{"", nil, `no card action ""`},
		{"add-stamps", nil, "add-stamps takes N"},
		{"redeem-coupon", []string{"1"}, "redeem-coupon takes no argument"},
		{"add-point", []string{"ten"}, `"ten": want an amount`},
		{"set-membership-tier", []string{"0", "month"}, `tier "0": want a positive whole number`},
		{"set-expiration-date", []string{"31/01/2027"}, "want a date, 2027-01-31"},
	} {
		_, _, err := bindAction(nil, c.name, c.argv)
		assert.ErrorContains(t, err, c.want, c.name)
		assert.ErrorAs(t, err, new(usageError), c.name)
	}
	spec, f, err := bindAction(nil, "add-stamps", []string{"2"})
	assert.NoError(t, err)
	assert.Equal(t, loyalty.ActionAddStamps, spec.action)
	assert.NotNil(t, f)
}

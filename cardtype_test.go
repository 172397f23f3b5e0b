package loyalty

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseCardType(t *testing.T) {
	t.Parallel()
	tests := map[string]CardType{
		"0": CardTypeStamp, "stamp": CardTypeStamp, "STAMP": CardTypeStamp, " Stamp ": CardTypeStamp,
		"1": CardTypeCashback, "cashback": CardTypeCashback,
		"2": CardTypeMultipass, "multipass": CardTypeMultipass, "Subscription": CardTypeMultipass,
		"3": CardTypeCoupon, "coupon": CardTypeCoupon,
		"4": CardTypeDiscount, "discount": CardTypeDiscount,
		"5": CardTypeGift, "gift": CardTypeGift, "Certificate": CardTypeGift,
		"6": CardTypeMembership, "membership": CardTypeMembership,
		"7": CardTypeReward, "reward": CardTypeReward,
	}
	for in, want := range tests {
		got, err := ParseCardType(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "8", "-1", "loyalty", "1.5", "stamps"} {
		got, err := ParseCardType(bad)
		assert.Error(t, err, bad)
		assert.Equal(t, CardTypeUnknown, got, bad)
	}
}

func TestCardTypeIDsAndNames(t *testing.T) {
	t.Parallel()
	names := []string{"stamp", "cashback", "multipass", "coupon", "discount", "gift", "membership", "reward"}
	require.Len(t, CardTypes(), 8)
	for i, ct := range CardTypes() {
		id, ok := ct.ID()
		assert.True(t, ok)
		assert.Equal(t, i, id)
		assert.Equal(t, names[i], ct.String())
		assert.Equal(t, ct, CardTypeFromID(i))
		assert.True(t, ct.Known())
	}
	var zero CardType
	assert.Equal(t, CardTypeUnknown, zero, "the zero value is never a real type")
	_, ok := zero.ID()
	assert.False(t, ok)
	assert.Equal(t, "unknown", zero.String())
	assert.Equal(t, "unknown", CardType(200).String())
	assert.Equal(t, CardTypeUnknown, CardTypeFromID(8))
}

func TestCardTypeJSON(t *testing.T) {
	t.Parallel()
	tests := map[string]CardType{
		`0`: CardTypeStamp, `7`: CardTypeReward, `"reward"`: CardTypeReward, `"subscription"`: CardTypeMultipass,
		`"multipass"`: CardTypeMultipass, `"certificate"`: CardTypeGift, `"gift"`: CardTypeGift, `"3"`: CardTypeCoupon,
		`"Coupon"`: CardTypeCoupon, `null`: CardTypeUnknown, `"loyalty_v9"`: CardTypeUnknown, `42`: CardTypeUnknown,
		`-1`: CardTypeUnknown, `2.5`: CardTypeUnknown, `true`: CardTypeUnknown, `{}`: CardTypeUnknown,
	}
	for in, want := range tests {
		var v struct {
			Type CardType `json:"type"`
		}
		err := json.Unmarshal([]byte(`{"type":`+in+`}`), &v)
		require.NoError(t, err, "an unknown type is kept as unknown, never a decode failure: %s", in)
		assert.Equal(t, want, v.Type, in)
	}
	for i, ct := range CardTypes() {
		b, err := json.Marshal(ct)
		require.NoError(t, err)
		assert.Equal(t, string(rune('0'+i)), string(b), "marshals as the number")
	}
	b, err := json.Marshal(CardTypeUnknown)
	require.NoError(t, err)
	assert.Equal(t, "null", string(b))
}

func TestCardTypesCannotBeChangedFromOutside(t *testing.T) {
	t.Parallel()
	before := ActionTable()
	types := CardTypes()
	types[0] = CardTypeCoupon
	assert.Equal(t, CardTypeStamp, CardTypes()[0])
	assert.Equal(t, before, ActionTable())
}

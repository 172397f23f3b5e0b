package loyalty

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// CardType is the kind of a loyalty card or template. It decides which card actions apply
// (see ActionAppliesTo).
//
// The zero value is CardTypeUnknown, never a real type: a card whose type is missing or new
// to this SDK must not be mistaken for a stamp card. Use ID for the API's numeric id.
type CardType uint8

// The card types of the API. The API numbers them 0 to 7 (see ID).
const (
	CardTypeUnknown    CardType = iota // not reported, or not known to this SDK
	CardTypeStamp                      // id 0
	CardTypeCashback                   // id 1
	CardTypeMultipass                  // id 2, also called subscription
	CardTypeCoupon                     // id 3
	CardTypeDiscount                   // id 4
	CardTypeGift                       // id 5, also called certificate
	CardTypeMembership                 // id 6
	CardTypeReward                     // id 7
)

// allCardTypes is every known card type in the API's id order. An array, so nothing outside
// can change what the action table is built from.
var allCardTypes = [...]CardType{
	CardTypeStamp, CardTypeCashback, CardTypeMultipass, CardTypeCoupon,
	CardTypeDiscount, CardTypeGift, CardTypeMembership, CardTypeReward,
}

// CardTypes returns every known card type in the API's id order. It is a copy: changing it
// changes nothing.
func CardTypes() []CardType { return append([]CardType(nil), allCardTypes[:]...) }

var cardTypeNames = [...]string{"unknown", "stamp", "cashback", "multipass", "coupon", "discount", "gift", "membership", "reward"}

// cardTypeAliases maps every lower-case name seen on the wire or in the docs to its type.
var cardTypeAliases = map[string]CardType{
	"stamp": CardTypeStamp, "cashback": CardTypeCashback,
	"multipass": CardTypeMultipass, "subscription": CardTypeMultipass,
	"coupon": CardTypeCoupon, "discount": CardTypeDiscount,
	"gift": CardTypeGift, "certificate": CardTypeGift,
	"membership": CardTypeMembership, "reward": CardTypeReward,
}

// CardTypeFromID returns the type with the API's numeric id (0 stamp … 7 reward), or
// CardTypeUnknown for any other number.
func CardTypeFromID(id int) CardType {
	if id < 0 || id > 7 {
		return CardTypeUnknown
	}
	return CardType(id + 1)
}

// ParseCardType reads a card type from its numeric id ("3") or any of its names ("coupon",
// "Subscription", "CERTIFICATE"), ignoring case and surrounding space, and returns it.
//
// Errors: an error naming the text when it is none of them; CardTypeUnknown is returned
// with it.
func ParseCardType(s string) (CardType, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if t, ok := cardTypeAliases[s]; ok {
		return t, nil
	}
	if id, err := strconv.Atoi(s); err == nil {
		if t := CardTypeFromID(id); t != CardTypeUnknown {
			return t, nil
		}
	}
	return CardTypeUnknown, fmt.Errorf("loyalty: unknown card type %q", s)
}

// ID returns the API's numeric id of the type; ok is false for CardTypeUnknown.
func (t CardType) ID() (id int, ok bool) {
	if !t.Known() {
		return -1, false
	}
	return int(t) - 1, true
}

// Known reports whether t is one of the eight card types of the API.
func (t CardType) Known() bool { return t >= CardTypeStamp && t <= CardTypeReward }

// String returns the type's name as the product docs spell it, in lower case.
func (t CardType) String() string {
	if int(t) < len(cardTypeNames) {
		return cardTypeNames[t]
	}
	return cardTypeNames[0]
}

// MarshalJSON writes the numeric id, as the API takes it; an unknown type is null.
func (t CardType) MarshalJSON() ([]byte, error) {
	id, ok := t.ID()
	if !ok {
		return []byte("null"), nil
	}
	return strconv.AppendInt(nil, int64(id), 10), nil
}

// UnmarshalJSON reads a numeric id or a name. Anything else becomes CardTypeUnknown rather
// than failing the decode of the card around it.
func (t *CardType) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	*t = CardTypeUnknown
	if len(data) == 0 || data[0] == 'n' {
		return nil
	}
	if data[0] == '"' {
		text, ok := unquote(data)
		if !ok {
			return nil
		}
		if known, ok := cardTypeAliases[string(text)]; ok { // the common case: no allocation
			*t = known
			return nil
		}
		*t, _ = ParseCardType(string(text))
		return nil
	}
	if id, err := strconv.Atoi(string(data)); err == nil {
		*t = CardTypeFromID(id)
	}
	return nil
}

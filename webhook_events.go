package loyalty

import (
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/loyaltycards/loyalty-go/internal/lenient"
)

// EventName names a webhook event. The platform reports more than the 24 below; an unknown
// name is kept as it comes.
type EventName string

// The webhook events known.
const (
	EventCardBalanceUpdated              EventName = "CardBalanceUpdatedEvent"
	EventCardExpired                     EventName = "CardExpiredEvent"
	EventCardInstalled                   EventName = "CardInstalledEvent"
	EventCardIssued                      EventName = "CardIssuedEvent"
	EventCardRemoved                     EventName = "CardRemovedEvent"
	EventCardScanned                     EventName = "CardScannedEvent"
	EventCompanyCreated                  EventName = "CompanyCreatedEvent"
	EventCompanyRemoved                  EventName = "CompanyRemovedEvent"
	EventCustomerCreated                 EventName = "CustomerCreatedEvent"
	EventCustomerReferralCreated         EventName = "CustomerReferralCreatedEvent"
	EventCustomerSegmentLinked           EventName = "CustomerSegmentLinkedEvent"
	EventFeedbackCreated                 EventName = "FeedbackCreatedEvent"
	EventManagerCreated                  EventName = "ManagerCreatedEvent"
	EventManagerRemoved                  EventName = "ManagerRemovedEvent"
	EventPaymentCompletedFailed          EventName = "PaymentCompletedFailedEvent"
	EventPaymentCompletedSuccessful      EventName = "PaymentCompletedSuccessfulEvent"
	EventPaymentRefunded                 EventName = "PaymentRefundedEvent"
	EventRecurrentPaymentCompletedFailed EventName = "RecurrentPaymentCompletedFailedEvent"
	EventTariffPaymentCreated            EventName = "TariffPaymentCreatedEvent"
	EventUserTemplateActivated           EventName = "UserTemplateActivatedEvent"
	EventUserTemplateCreated             EventName = "UserTemplateCreatedEvent"
	EventUserTemplateDeactivated         EventName = "UserTemplateDeactivatedEvent"
	EventUserTemplateRemoved             EventName = "UserTemplateRemovedEvent"
	EventUserTemplateUpdated             EventName = "UserTemplateUpdatedEvent"
)

var knownEvents = [...]EventName{
	EventCardBalanceUpdated, EventCardExpired, EventCardInstalled, EventCardIssued, EventCardRemoved, EventCardScanned,
	EventCompanyCreated, EventCompanyRemoved, EventCustomerCreated, EventCustomerReferralCreated, EventCustomerSegmentLinked,
	EventFeedbackCreated, EventManagerCreated, EventManagerRemoved, EventPaymentCompletedFailed, EventPaymentCompletedSuccessful,
	EventPaymentRefunded, EventRecurrentPaymentCompletedFailed, EventTariffPaymentCreated, EventUserTemplateActivated,
	EventUserTemplateCreated, EventUserTemplateDeactivated, EventUserTemplateRemoved, EventUserTemplateUpdated,
}

// EventNames returns the 24 known event names. It is a copy.
func EventNames() []EventName { return append([]EventName(nil), knownEvents[:]...) }

// Known reports whether the name is one of EventNames.
func (n EventName) Known() bool {
	for _, k := range knownEvents {
		if n == k {
			return true
		}
	}
	return false
}

// Event is one webhook delivery: {"timestamp": <unix seconds>, "event": "<Name>", "data": {…}}.
// Deliveries come at least once and in no set order: use Key to drop the repeats.
type Event struct {
	// Name is the event's name, one of the EventName constants or one this package does not
	// know yet.
	Name EventName
	// Timestamp is when the platform says the event happened.
	Timestamp time.Time
	// Data is the event's payload as it came, to read fields this package does not know.
	Data []byte
	// Raw is the whole delivery as it came.
	Raw []byte
}

// CardEvent is the payload of the card events (issued, installed, balance updated, removed,
// …). The platform writes these fields in snake_case.
type CardEvent struct {
	SerialNumber        string     `json:"serial_number"`
	CardholderID        string     `json:"cardholder_id"`
	Status              CardStatus `json:"status"`
	DeviceType          string     `json:"device_type"`
	CardType            CardType   `json:"card_type"`
	TemplateID          int        `json:"template_id"` // sent as a string; read either way
	CardholderEmail     string     `json:"cardholder_email"`
	CardholderPhone     string     `json:"cardholder_phone"` // digits, no "+"
	CardholderFirstName string     `json:"cardholder_first_name"`
	CardholderLastName  string     `json:"cardholder_last_name"`
	BonusBalance        float64    `json:"bonus_balance"`
	Balance             float64    `json:"balance"`
	NumberStampsTotal   int        `json:"number_stamps_total"`
	NumberRewardsUnused int        `json:"number_rewards_unused"`
}

// CustomerEvent is the payload of the customer events.
type CustomerEvent struct {
	ID        string `json:"id"`
	FirstName string `json:"first_name"`
	Surname   string `json:"surname"`
	Email     string `json:"email"`
	Phone     string `json:"phone"`
}

// CompanyEvent is the payload of the company events.
type CompanyEvent struct {
	ID    int    `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

// TemplateEvent is the payload of the template events.
type TemplateEvent struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
	User string `json:"user"`
}

// Card reads a card event's payload, tolerantly: it returns the payload, with what cannot be
// read left zero.
//
// Errors: an error naming the event when its data is not an object.
func (e *Event) Card() (*CardEvent, error) { return payload[CardEvent](e) }

// Customer reads a customer event's payload, and returns it as Card does.
//
// Errors: an error naming the event when its data is not an object.
func (e *Event) Customer() (*CustomerEvent, error) { return payload[CustomerEvent](e) }

// Company reads a company event's payload, and returns it as Card does.
//
// Errors: an error naming the event when its data is not an object.
func (e *Event) Company() (*CompanyEvent, error) { return payload[CompanyEvent](e) }

// Template reads a template event's payload, and returns it as Card does.
//
// Errors: an error naming the event when its data is not an object.
func (e *Event) Template() (*TemplateEvent, error) { return payload[TemplateEvent](e) }

func payload[T any](e *Event) (*T, error) {
	v := new(T)
	problems, err := lenient.Unmarshal(e.Data, v)
	if err == nil && len(problems) > 0 && problems[0].Path == "" {
		err = errors.New(problems[0].Reason)
	}
	if err != nil {
		return nil, fmt.Errorf("loyalty: %s payload: %w", e.Name, err)
	}
	return v, nil
}

// Subject is what the event is about: a card's serial, or the id of the customer, company or
// template, as far as the payload says; "" when it says none of them.
func (e *Event) Subject() string {
	var ids struct {
		Serial string `json:"serial_number"`
		ID     ID     `json:"id"`
	}
	_, _ = lenient.Unmarshal(e.Data, &ids)
	if ids.Serial != "" {
		return ids.Serial
	}
	return string(ids.ID)
}

// Key identifies the event for dropping repeats: its name and subject, and a hash of its
// payload, so that two changes to one card (two balance updates, say) keep distinct keys
// while a delivery repeated byte for byte does not. The timestamp is left out: it is not
// signed, so a repeat may carry another one.
func (e *Event) Key() string {
	h := fnv.New64a()
	_, _ = h.Write(e.Data)
	return string(e.Name) + "/" + e.Subject() + "/" + strconv.FormatUint(h.Sum64(), 36)
}

// ParseEvent reads one delivery's body, and returns the event.
//
// Errors: ErrBadDelivery for what is not the delivery's shape: not JSON, no event name, no
// timestamp.
func ParseEvent(body []byte) (*Event, error) {
	var d struct {
		Timestamp Timestamp `json:"timestamp"`
		Event     string    `json:"event"`
		Data      rawJSON   `json:"data"`
	}
	problems, err := lenient.Unmarshal(body, &d)
	switch {
	case err != nil:
		return nil, badDelivery(http.StatusBadRequest, "not JSON")
	case len(problems) > 0 && problems[0].Path == "":
		return nil, badDelivery(http.StatusBadRequest, "not a JSON object")
	case strings.TrimSpace(d.Event) == "":
		return nil, badDelivery(http.StatusBadRequest, "no event name")
	case d.Timestamp.Time.IsZero():
		return nil, badDelivery(http.StatusBadRequest, "no timestamp")
	}
	return &Event{Name: EventName(d.Event), Timestamp: d.Timestamp.Time, Data: d.Data, Raw: body}, nil
}

// rawJSON keeps a member as it came.
type rawJSON []byte

// UnmarshalJSON keeps a copy of the member.
func (r *rawJSON) UnmarshalJSON(b []byte) error { *r = append((*r)[:0], b...); return nil }

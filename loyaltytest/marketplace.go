package loyaltytest

import (
	"encoding/json"
	"math"
	"net/http"
	"sort"
	"strings"
	"time"

	loyalty "github.com/loyaltycards/loyalty-go"
)

// merchantCredentials are what resolve-credentials answers for the names it knows.
var merchantCredentials = map[string]string{"storeId": "store-1", "merchantId": "merchant-1", "locationId": "location-1"}

type accrueInput struct {
	TransactionID *string `json:"transactionId"`
	Check         *struct {
		Amount *int `json:"amount"`
		// Currency is required and nullable: missing is refused, null taken.
		Currency   json.RawMessage `json:"currency"`
		Selections *[]struct {
			Quantity   *int `json:"quantity"`
			TotalPrice *int `json:"totalPrice"`
		} `json:"selections"`
	} `json:"check"`
	SerialNumber *string            `json:"serialNumber"`
	Phone        *string            `json:"phone"`
	Email        *string            `json:"email"`
	FirstName    *string            `json:"firstName"`
	LastName     *string            `json:"lastName"`
	Credentials  *[]json.RawMessage `json:"credentials"`
}

// appError is a marketplace refusal: a 400 in the {"errors": [...]} shape.
func appError(msg string) *apiError { return fail(http.StatusBadRequest, "%s", msg) }

// accrue applies a purchase to the customer's cards, once per transaction id.
func accrue(st *state, rq *request) (any, *apiError) {
	var in accrueInput
	if err := decode(rq, &in); err != nil {
		return nil, appError("Could not decode request body.")
	}
	switch {
	case str(in.TransactionID) == "":
		return nil, appError("transactionId is required.")
	case in.Check == nil || in.Check.Amount == nil || *in.Check.Amount < 0:
		return nil, appError("check.amount is required.")
	case len(in.Check.Currency) == 0:
		return nil, appError("check.currency is required.")
	case string(in.Check.Currency) != "null" && !currencyCode(in.Check.Currency):
		return nil, appError("check.currency must be an ISO 4217 code.")
	case in.Check.Selections == nil:
		return nil, appError("check.selections is required.")
	case in.Credentials != nil && len(*in.Credentials) == 0:
		return nil, appError("credentials should contain 1 element or more.")
	}
	for _, sel := range *in.Check.Selections {
		if sel.Quantity == nil || *sel.Quantity <= 0 || sel.TotalPrice == nil || *sel.TotalPrice < 0 {
			return nil, appError("Invalid check selection.")
		}
	}
	if tx := st.txns[*in.TransactionID]; tx != nil {
		return bare{tx.view()}, nil // the same id is never applied twice
	}
	cards := st.findCards(str(in.SerialNumber), str(in.Phone), str(in.Email))
	if len(cards) == 0 && str(in.SerialNumber) == "" && (str(in.Phone) != "" || str(in.Email) != "") {
		// "The customer's phone, email or serial is required to find or register a loyalty
		// card": a customer the account does not know yet gets one.
		cards = []*card{st.register(str(in.Phone), str(in.Email), str(in.FirstName), str(in.LastName))}
	}
	if len(cards) == 0 {
		return nil, appError("Loyalty card not found.")
	}
	now := st.now()
	tx := &transaction{ID: *in.TransactionID}
	amount := float64(*in.Check.Amount) / 100
	for _, c := range cards {
		res := txResult{card: c, check: *in.Check.Amount, at: now, ok: true}
		switch c.tmpl.Type {
		case loyalty.CardTypeStamp:
			res.stamps = 1
			c.addStamps(1, now)
		case loyalty.CardTypeCashback:
			res.accrued = math.Round(amount*c.tmpl.CashbackPercent) / 100
		case loyalty.CardTypeReward, loyalty.CardTypeDiscount:
			res.accrued = amount
		default:
			res.ok, res.message = false, "Irrelevant accrual type"
		}
		c.balance += res.accrued
		tx.results = append(tx.results, res)
		if res.ok {
			st.record(c, 0, res.accrued+float64(res.stamps), amount, "marketplace", now)
		}
	}
	st.txns[tx.ID] = tx
	return bare{tx.view()}, nil
}

// reverse undoes an accrual, once.
func reverse(st *state, rq *request) (any, *apiError) {
	var in struct {
		TransactionID *string `json:"transactionId"`
	}
	if err := decode(rq, &in); err != nil {
		return nil, appError("Could not decode request body.")
	}
	tx := st.txns[str(in.TransactionID)]
	if tx == nil {
		return nil, appError("Transaction not found.")
	}
	if !tx.reversed {
		now := st.now()
		for i := range tx.results {
			r := &tx.results[i]
			if !r.ok {
				continue
			}
			r.card.balance -= r.accrued
			r.card.stamps = max(r.card.stamps-r.stamps, 0)
			r.reversed = &now
		}
		tx.reversed = true
	}
	return bare{tx.view()}, nil
}

func resolveCredentials(st *state, rq *request) (any, *apiError) {
	var in struct {
		Names []string `json:"names"`
	}
	if err := decode(rq, &in); err != nil || in.Names == nil {
		return nil, appError("names is required.")
	}
	if len(in.Names) == 0 { // "if not specified, all merchant credentials are returned"
		for n := range merchantCredentials {
			in.Names = append(in.Names, n)
		}
		sort.Strings(in.Names)
	}
	out := []map[string]string{}
	for _, n := range in.Names {
		if v, ok := merchantCredentials[n]; ok {
			out = append(out, map[string]string{"name": n, "value": v})
		}
	}
	return bare{map[string]any{"credentials": out}}, nil
}

// findCards looks a customer's cards up by serial, phone or email, in every account.
func (st *state) findCards(serial, phone, email string) []*card {
	var out []*card
	for _, t := range st.allTenants() {
		for _, c := range t.cards.list() {
			if (serial != "" && c.ID == serial) || (serial == "" && ((phone != "" && c.cust.Phone == phone) ||
				(email != "" && strings.EqualFold(c.cust.Email, email)))) {
				out = append(out, c)
			}
		}
	}
	return out
}

// register issues a card to a customer the marketplace names by phone or email: the agency's
// customer with that phone or email, or a new one, on its first cashback template.
func (st *state) register(phone, email, first, last string) *card {
	t := st.agency
	var cust *customer
	for _, cu := range t.customers.list() {
		if phone != "" && cu.Phone == phone || email != "" && strings.EqualFold(cu.Email, email) {
			cust = cu
			break
		}
	}
	now := st.now()
	if cust == nil {
		if first == "" {
			first = "Customer"
		}
		cust = &customer{ID: loyalty.NewTransactionID(), FirstName: first, Surname: last, Phone: phone, Email: email, CreatedAt: now}
		t.customers.add(cust.ID, cust)
	}
	tm := t.templates.list()[0]
	for _, candidate := range t.templates.list() {
		if candidate.Type == loyalty.CardTypeCashback {
			tm = candidate
			break
		}
	}
	c := &card{ID: st.newSerial(), tmpl: tm, cust: cust, CustomerID: cust.ID, Status: "not_installed", CreatedAt: now, UpdatedAt: now}
	t.cards.add(c.ID, c)
	return c
}

// record adds a row to the history of the card's account.
func (st *state) record(c *card, event int, amount, purchase float64, source string, at time.Time) {
	for _, t := range st.allTenants() {
		if t.cards.get(c.ID) == c {
			t.ops = append(t.ops, &operation{ID: st.nextID(), card: c, EventID: event, Amount: amount,
				Balance: c.measure(), PurchaseSum: purchase, Source: source, CreatedAt: at, visibleAt: st.set.now().Add(st.set.historyLag)})
			st.emit(t, loyalty.EventCardBalanceUpdated, cardEvent(c, ""))
			return
		}
	}
}

func (tx *transaction) view() map[string]any {
	results := []any{}
	for _, r := range tx.results {
		id, _ := r.card.tmpl.Type.ID()
		var msg any
		if r.message != "" {
			msg = r.message
		}
		results = append(results, map[string]any{"installationId": nil, "templateId": r.card.tmpl.ID, "companyId": r.card.tmpl.CompanyID,
			"isSuccess": r.ok, "errorMessage": msg, "cardType": id, "serialNumber": r.card.ID, "checkAmount": r.check,
			"accrualAmount": r.check, "accruedValue": int(math.Round((r.accrued + float64(r.stamps)) * 100)),
			"createdAt": ts(r.at), "reversedAt": tsp(r.reversed)})
	}
	return map[string]any{"transactionId": tx.ID, "results": results}
}

// currencyCode reports a JSON string of three upper-case letters.
func currencyCode(raw json.RawMessage) bool {
	var s string
	if json.Unmarshal(raw, &s) != nil || len(s) != 3 {
		return false
	}
	for _, r := range s {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}

package loyaltytest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	loyalty "github.com/loyaltycards/loyalty-go"
)

// table lists every route of the API.
func (s *Server) table() []route {
	rts := []route{
		{pattern: "GET /api/v2/cards", handle: listCards},
		{pattern: "POST /api/v2/cards", handle: createCard},
		{pattern: "GET /api/v2/cards/{id}", handle: getCard},
		{pattern: "PATCH /api/v2/cards/{id}", handle: updateCard},
		{pattern: "DELETE /api/v2/cards/{id}", handle: deleteCard},

		{pattern: "GET /api/v2/customers", handle: listCustomers},
		{pattern: "POST /api/v2/customers", handle: createCustomer},
		{pattern: "GET /api/v2/customers/{id}", handle: getCustomer},
		{pattern: "PATCH /api/v2/customers/{id}", handle: updateCustomer},
		{pattern: "DELETE /api/v2/customers/{id}", handle: deleteCustomer},

		{pattern: "GET /api/v2/companies", handle: agencyOnly(listCompanies)},
		{pattern: "POST /api/v2/companies", handle: agencyOnly(createCompany)},
		{pattern: "GET /api/v2/companies/{id}", handle: agencyOnly(getCompany)},
		{pattern: "PATCH /api/v2/companies/{id}", handle: agencyOnly(updateCompany)},
		{pattern: "DELETE /api/v2/companies/{id}", handle: agencyOnly(deleteCompany)},
		{pattern: "GET /api/v2/companies/{id}/sso-link", handle: agencyOnly(ssoLink)},
		{pattern: "POST /api/v2/companies/{id}/change-tariff", handle: agencyOnly(changeTariff)},

		{pattern: "GET /api/v2/tariffs", handle: listTariffs},
		{pattern: "GET /api/v2/tariffs/{id}", handle: getTariff},
		{pattern: "GET /api/v2/templates", handle: listTemplates},
		{pattern: "GET /api/v2/templates/{id}", handle: getTemplate},
		{pattern: "POST /api/v2/templates/{templateId}/reward_tiers", handle: createRewardTier},
		{pattern: "DELETE /api/v2/templates/{templateId}/reward_tiers/{id}", handle: deleteRewardTier},

		{pattern: "GET /api/v2/pushes", handle: listPushes},
		{pattern: "POST /api/v2/pushes", handle: sendPush},
		{pattern: "GET /api/v2/pushes/{id}", handle: getPush},
		{pattern: "POST /api/v2/sms", handle: sendSMS},
		{pattern: "GET /api/v2/operations", handle: listOperations},
		{pattern: "GET /api/v2/statistics/revenue", handle: revenue},

		{pattern: "GET /api/v2/profile", handle: getProfile},
		{pattern: "PATCH /api/v2/profile", handle: updateProfile},
		{pattern: "GET /api/v2/profile/agency", handle: agencyOnly(getAgencyProfile)},
		{pattern: "PATCH /api/v2/profile/agency", handle: agencyOnly(updateAgencyProfile)},

		{pattern: "POST /api/v2/marketplace/accrue", app: true, handle: accrue},
		{pattern: "POST /api/v2/marketplace/reverse", app: true, handle: reverse},
		{pattern: "POST /api/v2/marketplace/resolve-credentials", app: true, handle: resolveCredentials},

		{pattern: "POST /api/automation/webhooks", handle: subscribeWebhook},
		{pattern: "DELETE /api/automation/webhooks/{id}", handle: unsubscribeWebhook},
		{pattern: "GET /api/automation/users/me", handle: automationMe},
	}
	for i := range actionRoutes {
		r := &actionRoutes[i]
		rts = append(rts, route{pattern: "POST /api/v2/cards/{id}/" + r.endpoint, handle: actionHandler(r)})
	}
	return rts
}

type handler = func(st *state, rq *request) (any, *apiError)

func agencyOnly(h handler) handler {
	return func(st *state, rq *request) (any, *apiError) {
		if !rq.t.isAgency {
			return nil, errForbidden
		}
		return h(st, rq)
	}
}

func pathInt(rq *request, name string) (int, *apiError) {
	n, err := strconv.Atoi(rq.PathValue(name))
	if err != nil || n <= 0 {
		return 0, fail(http.StatusNotFound, "Not found")
	}
	return n, nil
}

// --- customers ---

type customerInput struct {
	ID             *string `json:"id"`
	FirstName      *string `json:"firstName"`
	Surname        *string `json:"surname"`
	Phone          *string `json:"phone"`
	Email          *string `json:"email"`
	Gender         *int    `json:"gender"`
	DateOfBirth    *string `json:"dateOfBirth"`
	ExternalUserID *string `json:"externalUserId"`
}

func (in *customerInput) check() *apiError {
	if in.Gender != nil && (*in.Gender < 0 || *in.Gender > 2) {
		return invalidField("gender", "The value you selected is not a valid choice.")
	}
	if in.DateOfBirth != nil && *in.DateOfBirth != "" {
		if _, err := time.Parse("2006-01-02", *in.DateOfBirth); err != nil {
			return invalidField("dateOfBirth", "This value is not a valid date.")
		}
	}
	if in.Email != nil && *in.Email != "" && !strings.Contains(*in.Email, "@") {
		return invalidField("email", "This value is not a valid email address.")
	}
	return nil
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func (t *tenant) duplicate(phone, email, except string) bool {
	for _, c := range t.customers.list() {
		if c.ID != except && ((phone != "" && c.Phone == phone) || (email != "" && strings.EqualFold(c.Email, email))) {
			return true
		}
	}
	return false
}

func listCustomers(st *state, rq *request) (any, *apiError) {
	email, phone := rq.query.Get("email"), rq.query.Get("phone")
	var out []*customer
	for _, c := range rq.t.customers.list() {
		if (email == "" || strings.EqualFold(c.Email, email)) && (phone == "" || c.Phone == phone) {
			out = append(out, c)
		}
	}
	return paginate(rq, out, (*customer).view, 30)
}

func createCustomer(st *state, rq *request) (any, *apiError) {
	var in customerInput
	if err := decode(rq, &in); err != nil {
		return nil, err
	}
	if str(in.FirstName) == "" {
		return nil, invalidField("firstName", "This value should not be blank.")
	}
	if str(in.Phone) == "" && str(in.Email) == "" {
		return nil, invalidField("phone", "A phone or an email is required.")
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	if rq.t.duplicate(str(in.Phone), str(in.Email), "") {
		return nil, fail(http.StatusConflict, "Customer already exists")
	}
	c := &customer{ID: loyalty.NewTransactionID(), FirstName: str(in.FirstName), Surname: str(in.Surname), Phone: str(in.Phone),
		Email: str(in.Email), Gender: in.Gender, DateOfBirth: str(in.DateOfBirth), ExternalUserID: str(in.ExternalUserID), CreatedAt: st.now()}
	rq.t.customers.add(c.ID, c)
	st.emit(rq.t, loyalty.EventCustomerCreated, map[string]any{"id": c.ID, "first_name": c.FirstName, "surname": c.Surname,
		"email": c.Email, "phone": digits(c.Phone)})
	return created{c.view()}, nil
}

func getCustomer(st *state, rq *request) (any, *apiError) {
	c := rq.t.customers.get(rq.PathValue("id"))
	if c == nil {
		return nil, notFound("Customer")
	}
	return c.view(), nil
}

func updateCustomer(st *state, rq *request) (any, *apiError) {
	c := rq.t.customers.get(rq.PathValue("id"))
	if c == nil {
		return nil, notFound("Customer")
	}
	var in customerInput
	if err := decode(rq, &in); err != nil {
		return nil, err
	}
	switch {
	case str(in.ID) != c.ID:
		return nil, invalidField("id", "The id must repeat the customer's id.")
	case in.Phone != nil:
		return nil, invalidField("phone", "The phone number cannot be changed.")
	case in.FirstName != nil && *in.FirstName == "":
		return nil, invalidField("firstName", "This value should not be blank.")
	case in.Email != nil && rq.t.duplicate("", *in.Email, c.ID):
		return nil, fail(http.StatusConflict, "Customer already exists")
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&c.FirstName, in.FirstName)
	set(&c.Surname, in.Surname)
	set(&c.Email, in.Email)
	set(&c.DateOfBirth, in.DateOfBirth)
	set(&c.ExternalUserID, in.ExternalUserID)
	if in.Gender != nil {
		c.Gender = in.Gender
	}
	now := st.now()
	c.UpdatedAt = &now
	return c.view(), nil
}

func deleteCustomer(st *state, rq *request) (any, *apiError) {
	c := rq.t.customers.get(rq.PathValue("id"))
	if c == nil {
		return nil, notFound("Customer")
	}
	for _, card := range rq.t.cards.list() {
		if card.cust == c {
			rq.t.cards.del(card.ID)
		}
	}
	rq.t.customers.del(c.ID)
	return map[string]any{"id": c.ID}, nil
}

// --- cards ---

type customFieldInput struct {
	ID    int    `json:"id"`
	Value string `json:"value"`
}

func listCards(st *state, rq *request) (any, *apiError) {
	tmplID, err := intQuery(rq, "templateId")
	if err != nil {
		return nil, err
	}
	custID, email, phone := rq.query.Get("customerId"), rq.query.Get("customerEmail"), rq.query.Get("customerPhone")
	var out []*card
	for _, c := range rq.t.cards.list() {
		if (tmplID == 0 || c.tmpl.ID == tmplID) && (custID == "" || c.CustomerID == custID) &&
			(email == "" || strings.EqualFold(c.cust.Email, email)) && (phone == "" || c.cust.Phone == phone) {
			out = append(out, c)
		}
	}
	return paginate(rq, out, (*card).view, 30)
}

func createCard(st *state, rq *request) (any, *apiError) {
	var in struct {
		CustomerID   string             `json:"customerId"`
		TemplateID   int                `json:"templateId"`
		CustomFields []customFieldInput `json:"customFields"`
	}
	if err := decode(rq, &in); err != nil {
		return nil, err
	}
	if in.TemplateID <= 0 {
		return nil, invalidField("templateId", "This value should be positive.")
	}
	tm := rq.t.templates.get(in.TemplateID)
	if tm == nil {
		return nil, notFound("Template")
	}
	cust := rq.t.customers.get(in.CustomerID)
	if cust == nil {
		return nil, notFound("Customer")
	}
	now := st.now()
	c := &card{ID: st.newSerial(), tmpl: tm, cust: cust, CustomerID: cust.ID, Status: "not_installed", CreatedAt: now, UpdatedAt: now}
	if tm.Type == loyalty.CardTypeMembership && len(tm.MembershipTiers) > 0 {
		c.tierID, c.period = tm.MembershipTiers[0].ID, "month"
	}
	c.customFields = customFieldsView(in.CustomFields)
	rq.t.cards.add(c.ID, c)
	st.emit(rq.t, loyalty.EventCardIssued, cardEvent(c, ""))
	return created{c.view()}, nil
}

func customFieldsView(in []customFieldInput) []map[string]any {
	var out []map[string]any
	for i, f := range in {
		out = append(out, map[string]any{"id": f.ID, "name": nil, "type": nil, "value": f.Value, "order": i + 1})
	}
	return out
}

func getCard(st *state, rq *request) (any, *apiError) {
	c := rq.t.cards.get(rq.PathValue("id"))
	if c == nil {
		return nil, notFound("Card")
	}
	return c.view(), nil
}

func updateCard(st *state, rq *request) (any, *apiError) {
	c := rq.t.cards.get(rq.PathValue("id"))
	if c == nil {
		return nil, notFound("Card")
	}
	var in struct {
		CustomFields []customFieldInput `json:"customFields"`
	}
	if err := decode(rq, &in); err != nil {
		return nil, err
	}
	switch {
	case in.CustomFields == nil: // the description requires nothing: {} changes nothing
	case len(in.CustomFields) == 0:
		return nil, invalidField("customFields", "This collection should contain 1 element or more.")
	default:
		c.customFields = customFieldsView(in.CustomFields)
	}
	c.UpdatedAt = st.now()
	return c.view(), nil
}

func deleteCard(st *state, rq *request) (any, *apiError) {
	c := rq.t.cards.get(rq.PathValue("id"))
	if c == nil {
		return nil, notFound("Card")
	}
	rq.t.cards.del(c.ID)
	st.emit(rq.t, loyalty.EventCardRemoved, cardEvent(c, "deleted"))
	return map[string]any{"id": c.ID}, nil
}

// --- companies ---

var tariffPeriods = map[string]bool{"trial": true, "month": true, "two_months": true, "quarter": true, "six_months": true, "nine_months": true, "year": true}

func listCompanies(st *state, rq *request) (any, *apiError) {
	return paginate(rq, st.companies.list(), func(t *tenant) map[string]any { return t.company.view() }, 30)
}

func (st *state) tariff(id int) *tariff {
	for _, t := range st.tariffs {
		if t.ID == id {
			return t
		}
	}
	return nil
}

func createCompany(st *state, rq *request) (any, *apiError) {
	var in struct {
		TariffID     int     `json:"tariffId"`
		TariffPeriod string  `json:"tariffPeriod"`
		Name         string  `json:"name"`
		UserName     string  `json:"userName"`
		UserSurname  string  `json:"userSurname"`
		Email        string  `json:"email"`
		Phone        string  `json:"phone"`
		Password     string  `json:"password"`
		Country      string  `json:"country"`
		Language     *string `json:"language"`
	}
	if err := decode(rq, &in); err != nil {
		return nil, err
	}
	for _, f := range []struct{ name, v string }{{"name", in.Name}, {"userName", in.UserName}, {"userSurname", in.UserSurname},
		{"email", in.Email}, {"phone", in.Phone}, {"country", in.Country}} {
		if f.v == "" {
			return nil, invalidField(f.name, "This value should not be blank.")
		}
	}
	switch n := len([]rune(in.Password)); {
	case n < 6 || n > 20:
		return nil, invalidField("password", "This value should have 6 to 20 characters.")
	case st.tariff(in.TariffID) == nil:
		return nil, invalidField("tariffId", "Tariff not found.")
	case !tariffPeriods[in.TariffPeriod]:
		return nil, invalidField("tariffPeriod", "The value you selected is not a valid choice.")
	case in.Language != nil && (len(*in.Language) < 2 || len(*in.Language) > 5):
		return nil, invalidField("language", "This value should have 2 to 5 characters.")
	}
	co := st.addCompany(in.Name, in.TariffID, in.TariffPeriod)
	co.Email, co.Phone, co.Country, co.UserName, co.UserSurname = in.Email, in.Phone, in.Country, in.UserName, in.UserSurname
	st.emit(st.agency, loyalty.EventCompanyCreated, map[string]any{"id": co.ID, "name": co.Name, "email": co.Email})
	return created{co.view()}, nil
}

func companyOf(st *state, rq *request) (*tenant, *apiError) {
	id, err := pathInt(rq, "id")
	if err != nil {
		return nil, err
	}
	t := st.companies.get(id)
	if t == nil {
		return nil, notFound("Company")
	}
	return t, nil
}

func getCompany(st *state, rq *request) (any, *apiError) {
	t, err := companyOf(st, rq)
	if err != nil {
		return nil, err
	}
	return t.company.view(), nil
}

func updateCompany(st *state, rq *request) (any, *apiError) {
	t, err := companyOf(st, rq)
	if err != nil {
		return nil, err
	}
	var in struct {
		Name      *string `json:"name"`
		ExpiresAt *string `json:"expiresAt"`
	}
	if err := decode(rq, &in); err != nil {
		return nil, err
	}
	if in.ExpiresAt != nil {
		at, aerr := parseStored("expiresAt", *in.ExpiresAt)
		if aerr != nil {
			return nil, aerr
		}
		t.company.ExpiresAt = &at
	}
	if in.Name != nil {
		t.company.Name = *in.Name
	}
	now := st.now()
	t.company.UpdatedAt = &now
	return t.company.view(), nil
}

func deleteCompany(st *state, rq *request) (any, *apiError) {
	t, err := companyOf(st, rq)
	if err != nil {
		return nil, err
	}
	st.companies.del(t.company.ID)
	delete(st.byKey, t.company.APIKey)
	st.emit(st.agency, loyalty.EventCompanyRemoved, map[string]any{"id": t.company.ID, "name": t.company.Name, "email": t.company.Email})
	return map[string]any{"id": t.company.ID}, nil
}

func ssoLink(st *state, rq *request) (any, *apiError) {
	t, err := companyOf(st, rq)
	if err != nil {
		return nil, err
	}
	return map[string]any{"link": "https://app.example.com/sso/" + strconv.Itoa(t.company.ID) + "?token=" + randomHex(8)}, nil
}

func changeTariff(st *state, rq *request) (any, *apiError) {
	t, err := companyOf(st, rq)
	if err != nil {
		return nil, err
	}
	var in struct {
		TariffID     int    `json:"tariffId"`
		TariffPeriod string `json:"tariffPeriod"`
	}
	if err := decode(rq, &in); err != nil {
		return nil, err
	}
	if st.tariff(in.TariffID) == nil {
		return nil, invalidField("tariffId", "Tariff not found.")
	}
	if !tariffPeriods[in.TariffPeriod] {
		return nil, invalidField("tariffPeriod", "The value you selected is not a valid choice.")
	}
	t.company.TariffID, t.company.TariffPeriod = in.TariffID, in.TariffPeriod
	return t.company.view(), nil
}

// --- tariffs and templates ---

func listTariffs(st *state, rq *request) (any, *apiError) {
	return paginate(rq, st.tariffs, (*tariff).view, 30)
}

func getTariff(st *state, rq *request) (any, *apiError) {
	id, err := pathInt(rq, "id")
	if err != nil {
		return nil, err
	}
	t := st.tariff(id)
	if t == nil {
		return nil, notFound("Tariff")
	}
	return t.view(), nil
}

func listTemplates(st *state, rq *request) (any, *apiError) {
	return paginate(rq, rq.t.templates.list(), (*template).view, 30)
}

func templateOf(rq *request, param string) (*template, *apiError) {
	id, err := pathInt(rq, param)
	if err != nil {
		return nil, err
	}
	tm := rq.t.templates.get(id)
	if tm == nil {
		return nil, notFound("Template")
	}
	return tm, nil
}

func getTemplate(st *state, rq *request) (any, *apiError) {
	tm, err := templateOf(rq, "id")
	if err != nil {
		return nil, err
	}
	return tm.view(), nil
}

func createRewardTier(st *state, rq *request) (any, *apiError) {
	tm, err := templateOf(rq, "templateId")
	if err != nil {
		return nil, err
	}
	var in struct {
		Name       string          `json:"name"`
		Type       *int            `json:"type"`
		Value      *float64        `json:"value"`
		Threshold  json.RawMessage `json:"threshold"`
		UsageLimit *int            `json:"usageLimit"`
		ValueLimit *float64        `json:"valueLimit"`
	}
	if err := decode(rq, &in); err != nil {
		return nil, err
	}
	threshold := 0 // the description's default
	if len(in.Threshold) > 0 {
		if err := json.Unmarshal(in.Threshold, &threshold); err != nil || string(in.Threshold) == "null" {
			return nil, invalidField("threshold", "This value should be of type int.")
		}
	}
	switch {
	case in.Name == "":
		return nil, invalidField("name", "This value should not be blank.")
	case in.Type == nil || *in.Type < 0 || *in.Type > 2:
		return nil, invalidField("type", "The value you selected is not a valid choice.")
	case in.Value == nil:
		return nil, invalidField("value", "This value should not be blank.")
	}
	rt := RewardTier{ID: st.nextID(), Name: in.Name, Threshold: threshold, Value: *in.Value, usageLimit: in.UsageLimit, valueLimit: in.ValueLimit}
	tm.rewardTiers = append(tm.rewardTiers, rt)
	tm.tierType[rt.ID] = *in.Type
	return created{tm.rewardTierView(rt)}, nil
}

func deleteRewardTier(st *state, rq *request) (any, *apiError) {
	tm, err := templateOf(rq, "templateId")
	if err != nil {
		return nil, err
	}
	id, err := pathInt(rq, "id")
	if err != nil {
		return nil, err
	}
	for i, rt := range tm.rewardTiers {
		if rt.ID == id {
			tm.rewardTiers = append(tm.rewardTiers[:i], tm.rewardTiers[i+1:]...)
			return map[string]any{"id": id}, nil
		}
	}
	return nil, notFound("Reward tier")
}

// --- pushes, SMS, operations, statistics ---

func listPushes(st *state, rq *request) (any, *apiError) {
	tmplID, err := intQuery(rq, "templateId")
	if err != nil {
		return nil, err
	}
	start, err := dateQuery(rq, "startDate")
	if err != nil {
		return nil, err
	}
	end, err := dateQuery(rq, "endDate")
	if err != nil {
		return nil, err
	}
	cardID := rq.query.Get("cardId")
	var out []*push
	for _, p := range rq.t.pushes.list() {
		if (tmplID == 0 || p.TemplateID == tmplID) && (cardID == "" || p.CardID == cardID) && inRange(p.CreatedAt, start, end) {
			out = append(out, p)
		}
	}
	return paginate(rq, out, (*push).view, 30)
}

func sendPush(st *state, rq *request) (any, *apiError) {
	var in struct {
		Message     string  `json:"message"`
		TemplateID  int     `json:"templateId"`
		CardID      *string `json:"cardId"`
		ScheduledAt *string `json:"scheduledAt"`
	}
	if err := decode(rq, &in); err != nil {
		return nil, err
	}
	if in.Message == "" {
		return nil, invalidField("message", "This value should not be blank.")
	}
	tm := rq.t.templates.get(in.TemplateID)
	if tm == nil {
		return nil, notFound("Template")
	}
	now := st.now()
	p := &push{ID: loyalty.NewTransactionID(), Message: in.Message, TemplateID: tm.ID, Status: "sent", ScheduledAt: now, CreatedAt: now}
	if in.ScheduledAt != nil {
		at, err := parseStored("scheduledAt", *in.ScheduledAt)
		if err != nil {
			return nil, err
		}
		p.ScheduledAt = at
		if at.After(now) {
			p.Status = "scheduled"
		}
	}
	for _, c := range rq.t.cards.list() {
		if c.tmpl == tm && (in.CardID == nil || c.ID == *in.CardID) {
			p.Sent++
		}
	}
	if in.CardID != nil {
		if c := rq.t.cards.get(*in.CardID); c == nil || c.tmpl != tm {
			return nil, notFound("Card")
		}
		p.CardID = *in.CardID
	}
	if p.Status == "scheduled" {
		p.Sent = 0
	}
	rq.t.pushes.add(p.ID, p)
	return created{p.view()}, nil
}

func getPush(st *state, rq *request) (any, *apiError) {
	p := rq.t.pushes.get(rq.PathValue("id"))
	if p == nil {
		return nil, notFound("Push")
	}
	return p.view(), nil
}

func sendSMS(st *state, rq *request) (any, *apiError) {
	var in struct {
		CustomerID string `json:"customerId"`
		Message    string `json:"message"`
	}
	if err := decode(rq, &in); err != nil {
		return nil, err
	}
	if in.Message == "" {
		return nil, invalidField("message", "This value should not be blank.")
	}
	c := rq.t.customers.get(in.CustomerID)
	if c == nil {
		return nil, notFound("Customer")
	}
	if c.Phone == "" {
		return nil, invalidField("customerId", "The customer has no phone number.")
	}
	id := "sms-" + randomHex(8)
	rq.t.sms = append(rq.t.sms, id)
	return created{map[string]any{"id": id}}, nil
}

func listOperations(st *state, rq *request) (any, *apiError) {
	tmplID, err := intQuery(rq, "templateId")
	if err != nil {
		return nil, err
	}
	start, err := dateQuery(rq, "startDate")
	if err != nil {
		return nil, err
	}
	end, err := dateQuery(rq, "endDate")
	if err != nil {
		return nil, err
	}
	cardID, custID := rq.query.Get("cardId"), rq.query.Get("customerId")
	var out []*operation
	shown := st.set.now()
	for _, op := range rq.t.ops {
		if op.visibleAt.After(shown) {
			continue // the history lags behind the card (WithHistoryLag)
		}
		if (tmplID == 0 || op.card.tmpl.ID == tmplID) && (cardID == "" || op.card.ID == cardID) &&
			(custID == "" || op.card.CustomerID == custID) && inRange(op.CreatedAt, start, end) {
			out = append(out, op)
		}
	}
	return paginate(rq, out, (*operation).view, 1000) // the live API's default for this list
}

// smsCost is what one text message costs, for the statistics.
const smsCost = 0.05

func revenue(st *state, rq *request) (any, *apiError) {
	companyID, err := intQuery(rq, "companyId")
	if err != nil {
		return nil, err
	}
	tmplID, err := intQuery(rq, "templateId")
	if err != nil {
		return nil, err
	}
	start, err := dateQuery(rq, "startDate")
	if err != nil {
		return nil, err
	}
	end, err := dateQuery(rq, "endDate")
	if err != nil {
		return nil, err
	}
	t := rq.t
	if companyID != 0 && companyID != t.company.ID {
		if !t.isAgency || st.companies.get(companyID) == nil {
			return nil, notFound("Company")
		}
		t = st.companies.get(companyID)
	}
	byDay := map[string]float64{}
	customers := map[string]bool{}
	var total float64
	for _, op := range t.ops {
		if (tmplID == 0 || op.card.tmpl.ID == tmplID) && inRange(op.CreatedAt, start, end) {
			total += op.PurchaseSum
			byDay[op.CreatedAt.Format("2006-01-02")] += op.PurchaseSum
			customers[op.card.CustomerID] = true
		}
	}
	cost := float64(len(t.sms)) * smsCost
	revenueByDay, roiByDay := []any{}, []any{}
	for _, day := range sortedKeys(byDay) {
		revenueByDay = append(revenueByDay, map[string]any{"date": day, "value": byDay[day]})
		roiByDay = append(roiByDay, map[string]any{"date": day, "value": ratio(byDay[day], cost)})
	}
	var ltv float64
	if len(customers) > 0 {
		ltv = total / float64(len(customers))
	}
	return map[string]any{"revenueTotal": total, "totalCost": cost, "ltv": ltv, "roi": ratio(total, cost),
		"revenueByDay": revenueByDay, "roiByDay": roiByDay}, nil
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// --- profile ---

var dateFormats = map[string]bool{"DD.MM.YYYY": true, "DD/MM/YYYY": true, "DD-MM-YYYY": true, "MM/DD/YYYY": true, "YYYY.MM.DD": true, "YYYY-MM-DD": true}

func getProfile(st *state, rq *request) (any, *apiError) { return rq.t.profile, nil }

func updateProfile(st *state, rq *request) (any, *apiError) {
	var in map[string]*string
	if err := decode(rq, &in); err != nil {
		return nil, err
	}
	if f := in["dateFormat"]; f != nil && !dateFormats[*f] {
		return nil, invalidField("dateFormat", "The value you selected is not a valid choice.")
	}
	if p := in["phone"]; p != nil && (len(*p) < 8 || len(*p) > 20) {
		return nil, invalidField("phone", "This value should have 8 to 20 characters.")
	}
	if c := in["contacts"]; c != nil && len([]rune(*c)) > 255 {
		return nil, invalidField("contacts", "This value is too long. It should have 255 characters or less.")
	}
	return patchMap(rq.t.profile, in, "name", "userName", "userSurname", "phone", "email", "country", "language", "timezone",
		"contacts", "currency", "dateFormat"), nil
}

func getAgencyProfile(st *state, rq *request) (any, *apiError) { return rq.t.agencyProfile, nil }

func updateAgencyProfile(st *state, rq *request) (any, *apiError) {
	var in map[string]*string
	if err := decode(rq, &in); err != nil {
		return nil, err
	}
	if p := in["phone"]; p != nil && (len(*p) < 8 || len(*p) > 20) {
		return nil, invalidField("phone", "This value should have 8 to 20 characters.")
	}
	return patchMap(rq.t.agencyProfile, in, "name", "phone", "email", "address", "zip", "city", "country", "state", "facebook",
		"instagram", "twitter", "telegram", "helpCenterLink", "privacyPolicyLink", "subscriptionAgreementLink", "demoFormLink", "termsOfUse",
		"agreement", "privacyPolicy"), nil
}

// patchMap copies the given keys of in that are present into m, and returns m.
func patchMap(m map[string]any, in map[string]*string, keys ...string) map[string]any {
	for _, k := range keys {
		if v, ok := in[k]; ok && v != nil {
			m[k] = *v
		}
	}
	return m
}

package loyaltytest

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	loyalty "github.com/loyaltycards/loyalty-go"
)

// Template seeds a card template of the fake.
type Template struct {
	// ID is assigned when 0.
	ID   int
	Name string
	Type loyalty.CardType
	// Mechanics is what stamp and reward cards count: visits, spend or points. It decides
	// which actions the cards accept, and is served as the template's mechanics block.
	Mechanics loyalty.Mechanics
	// StampsPerReward is how many stamps earn one reward on a stamp card (default 10).
	StampsPerReward int
	// SpendPerStamp is the purchase amount that earns one stamp with spend mechanics
	// (default 10).
	SpendPerStamp float64
	// CashbackPercent is the share of a purchase credited to a cashback card (default 5).
	CashbackPercent float64
	// DiscountPercent is the discount a discount card gives (default 10).
	DiscountPercent float64
	// MembershipTiers are the tiers of a membership template; cards start on the first.
	MembershipTiers []MembershipTier
	// RewardTiers are the rewards a reward or stamp card can receive.
	RewardTiers []RewardTier
}

// MembershipTier seeds a membership tier. VisitLimit is the visits allowed per period; 0
// means unlimited, and decides whether the cards take add-visit (unlimited) or
// subtract-visit (limited).
type MembershipTier struct {
	ID         int
	Name       string
	VisitLimit int
	Price      float64
}

// RewardTier seeds a reward tier: received on a reward card once its balance reaches
// Threshold, which it costs.
type RewardTier struct {
	ID        int
	Name      string
	Threshold int
	Value     float64

	usageLimit *int // set through the API only
	valueLimit *float64
}

// Names of the default templates, one for each card type and mechanics variant, so that a
// test picks the one it means with Server.TemplateNamed. The first of each type is what
// Server.TemplateID gives.
const (
	TemplateStampVisits       = "Coffee stamps"  // stamp, visit mechanics, 10 stamps to a reward
	TemplateStampSpend        = "Bakery stamps"  // stamp, spend mechanics, a stamp per 10 spent
	TemplateCashback          = "Cashback club"  // cashback, 5%
	TemplateMultipass         = "10-class pass"  // multipass
	TemplateCoupon            = "Welcome coupon" // coupon
	TemplateDiscount          = "Friends discount"
	TemplateGift              = "Gift card"
	TemplateMembershipOpen    = "Gym membership" // membership, first tier unlimited: add-visit
	TemplateMembershipLimited = "Gym 8 a month"  // membership, first tier 8 visits: subtract-visit
	TemplateRewardPoints      = "Points rewards" // reward, points mechanics: add-scores
	TemplateRewardVisits      = "Visit rewards"  // reward, visit mechanics: add-visit
	TemplateRewardSpend       = "Spend rewards"  // reward, spend mechanics: add-purchase
)

// DefaultTemplates is a template for each card type and each mechanics variant (the
// Template* names), so that every cell the card-type table allows has a card to try it on.
func DefaultTemplates() []Template {
	free := []RewardTier{{Name: "Free coffee", Threshold: 100, Value: 1}}
	return []Template{
		{Name: TemplateStampVisits, Type: loyalty.CardTypeStamp, Mechanics: loyalty.MechanicsVisits, StampsPerReward: 10},
		{Name: TemplateStampSpend, Type: loyalty.CardTypeStamp, Mechanics: loyalty.MechanicsSpend, StampsPerReward: 10, SpendPerStamp: 10},
		{Name: TemplateCashback, Type: loyalty.CardTypeCashback, CashbackPercent: 5},
		{Name: TemplateMultipass, Type: loyalty.CardTypeMultipass},
		{Name: TemplateCoupon, Type: loyalty.CardTypeCoupon},
		{Name: TemplateDiscount, Type: loyalty.CardTypeDiscount, DiscountPercent: 10},
		{Name: TemplateGift, Type: loyalty.CardTypeGift},
		{Name: TemplateMembershipOpen, Type: loyalty.CardTypeMembership, MembershipTiers: []MembershipTier{
			{Name: "Unlimited", VisitLimit: 0, Price: 90}, {Name: "Eight a month", VisitLimit: 8, Price: 45},
		}},
		{Name: TemplateMembershipLimited, Type: loyalty.CardTypeMembership, MembershipTiers: []MembershipTier{
			{Name: "Eight a month", VisitLimit: 8, Price: 45}, {Name: "Unlimited", VisitLimit: 0, Price: 90},
		}},
		{Name: TemplateRewardPoints, Type: loyalty.CardTypeReward, Mechanics: loyalty.MechanicsPoints, RewardTiers: free},
		{Name: TemplateRewardVisits, Type: loyalty.CardTypeReward, Mechanics: loyalty.MechanicsVisits, RewardTiers: free},
		{Name: TemplateRewardSpend, Type: loyalty.CardTypeReward, Mechanics: loyalty.MechanicsSpend, RewardTiers: free},
	}
}

// table keeps records by id in creation order, for stable pages.
type table[K comparable, V any] struct {
	byID  map[K]*V
	order []K
}

func newTable[K comparable, V any]() table[K, V] { return table[K, V]{byID: map[K]*V{}} }

func (t *table[K, V]) add(k K, v *V) { t.byID[k] = v; t.order = append(t.order, k) }
func (t *table[K, V]) get(k K) *V    { return t.byID[k] }
func (t *table[K, V]) del(k K) {
	delete(t.byID, k)
	for i, o := range t.order {
		if o == k {
			t.order = append(t.order[:i], t.order[i+1:]...)
			return
		}
	}
}
func (t *table[K, V]) list() []*V {
	out := make([]*V, 0, len(t.order))
	for _, k := range t.order {
		out = append(out, t.byID[k])
	}
	return out
}

// state is everything the fake knows. The Server's mutex guards it.
type state struct {
	set       settings
	agency    *tenant
	companies table[int, tenant]
	byKey     map[string]*tenant
	tariffs   []*tariff
	txns      map[string]*transaction
	seq       int
	serials   map[string]bool
	outbox    []delivery // webhook deliveries the current request caused
}

// tenant is an account: the agency or one of its companies, each with its own data.
type tenant struct {
	company       *company
	isAgency      bool
	customers     table[string, customer]
	templates     table[int, template]
	cards         table[string, card]
	ops           []*operation
	pushes        table[string, push]
	sms           []string
	profile       map[string]any
	agencyProfile map[string]any
	webhooks      map[string]*subscription
}

type company struct {
	ID           int
	UserID       string
	Name         string
	Email        string
	Phone        string
	Country      string
	UserName     string
	UserSurname  string
	Status       int
	APIKey       string
	TariffID     int
	TariffPeriod string
	ExpiresAt    *time.Time
	CreatedAt    time.Time
	UpdatedAt    *time.Time
}

type customer struct {
	ID, FirstName, Surname, Email, Phone, DateOfBirth, ExternalUserID string
	Gender                                                            *int
	CreatedAt                                                         time.Time
	UpdatedAt                                                         *time.Time
}

type template struct {
	Template
	CompanyID   int
	CreatedAt   time.Time
	rewardTiers []RewardTier // live copy: tiers can be added and removed
	tierType    map[int]int
}

type card struct {
	ID         string
	tmpl       *template
	cust       *customer
	CustomerID string
	Status     string

	stamps, rewards  int
	balance          float64
	uses, visits     int
	couponRedeemed   bool
	tierID           int
	period           string
	earned, redeemed int
	expiresAt        *time.Time
	lastStamp        *time.Time
	lastEarned       *time.Time
	lastRedeemed     *time.Time
	customFields     []map[string]any
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

type operation struct {
	ID          int
	card        *card
	EventID     int
	Amount      float64
	Balance     int
	PurchaseSum float64
	Comment     string
	Source      string
	CreatedAt   time.Time
	// visibleAt is when the history starts to show the row (WithHistoryLag).
	visibleAt time.Time
}

type push struct {
	ID, Message, CardID, Status string
	TemplateID, Sent            int
	ScheduledAt, CreatedAt      time.Time
}

type tariff struct {
	ID     int
	Name   string
	Prices [3]float64
	Limits [4]int
}

// transaction is a marketplace accrual, kept so that a repeated id is not applied twice.
type transaction struct {
	ID       string
	results  []txResult
	reversed bool
}

type txResult struct {
	card     *card
	accrued  float64 // what was added to the card's balance measure
	stamps   int
	check    int
	at       time.Time
	reversed *time.Time
	ok       bool
	message  string
}

const agencyCompanyID = 1000

func newState(set settings, agencyKey string) *state {
	st := &state{set: set, companies: newTable[int, tenant](), byKey: map[string]*tenant{},
		txns: map[string]*transaction{}, seq: 4000, serials: map[string]bool{}}
	st.tariffs = []*tariff{
		{ID: 1, Name: "Trial", Limits: [4]int{1, 1, 1, 0}},
		{ID: 2, Name: "Starter", Prices: [3]float64{19, 54, 190}, Limits: [4]int{3, 1, 2, 1}},
		{ID: 3, Name: "Business", Prices: [3]float64{49, 139.5, 499}, Limits: [4]int{10, 5, 3, 2}},
	}
	now := set.now().UTC()
	st.agency = st.newTenant(&company{ID: agencyCompanyID, UserID: loyalty.NewTransactionID(), Name: "Fake Agency",
		Email: "agency@example.com", Status: 1, APIKey: agencyKey, TariffID: 3, TariffPeriod: "year", CreatedAt: now})
	st.agency.isAgency = true
	st.agency.agencyProfile = map[string]any{"companyId": agencyCompanyID, "name": "Fake Agency", "email": "agency@example.com"}
	return st
}

func (st *state) now() time.Time { return st.set.now().UTC().Truncate(time.Second) }

func (st *state) nextID() int { st.seq++; return st.seq }

func (st *state) newTenant(co *company) *tenant {
	t := &tenant{company: co, customers: newTable[string, customer](), templates: newTable[int, template](),
		cards: newTable[string, card](), pushes: newTable[string, push](),
		profile: map[string]any{"companyId": co.ID, "name": co.Name, "email": co.Email, "phone": co.Phone,
			"country": "US", "currency": "USD", "timezone": "America/New_York", "dateFormat": "MM/DD/YYYY",
			"userName": co.UserName, "userSurname": co.UserSurname}}
	st.byKey[co.APIKey] = t
	for _, seed := range st.set.templates {
		st.addTemplate(t, seed)
	}
	return t
}

func (st *state) addCompany(name string, tariffID int, period string) *company {
	co := &company{ID: st.nextID(), UserID: loyalty.NewTransactionID(), Name: name, Status: 1,
		APIKey: "lt_company_" + randomHex(12), TariffID: tariffID, TariffPeriod: period, CreatedAt: st.now()}
	st.companies.add(co.ID, st.newTenant(co))
	return co
}

func (st *state) addTemplate(t *tenant, seed Template) {
	tm := &template{Template: seed, CompanyID: t.company.ID, CreatedAt: st.now(), tierType: map[int]int{}}
	if tm.ID == 0 {
		tm.ID = 955800 + st.nextID()
	}
	if tm.StampsPerReward <= 0 {
		tm.StampsPerReward = 10
	}
	if tm.SpendPerStamp <= 0 {
		tm.SpendPerStamp = 10
	}
	if tm.CashbackPercent <= 0 {
		tm.CashbackPercent = 5
	}
	if tm.DiscountPercent <= 0 {
		tm.DiscountPercent = 10
	}
	tm.MembershipTiers = append([]MembershipTier(nil), seed.MembershipTiers...)
	for i := range tm.MembershipTiers {
		if tm.MembershipTiers[i].ID == 0 {
			tm.MembershipTiers[i].ID = st.nextID()
		}
	}
	for _, rt := range seed.RewardTiers {
		if rt.ID == 0 {
			rt.ID = st.nextID()
		}
		tm.rewardTiers = append(tm.rewardTiers, rt)
	}
	t.templates.add(tm.ID, tm)
}

// newSerial returns an unused card serial in the API's form, such as 638920-251-210.
func (st *state) newSerial() string {
	for {
		s := fmt.Sprintf("%06d-%03d-%03d", 100000+rand.IntN(900000), rand.IntN(1000), rand.IntN(1000))
		if !st.serials[s] {
			st.serials[s] = true
			return s
		}
	}
}

// tenantOf finds the tenant a card belongs to, across every account (for the marketplace).
func (st *state) allTenants() []*tenant {
	return append([]*tenant{st.agency}, st.companies.list()...)
}

// --- JSON views, shaped as the live API sends them ---

func ts(t time.Time) string { return t.UTC().Format(wireTime) }

func tsp(t *time.Time) any {
	if t == nil {
		return nil
	}
	return ts(*t)
}

func orNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// cardTypeNames are the type strings cards carry on the live API.
var cardTypeNames = map[loyalty.CardType]string{
	loyalty.CardTypeStamp: "stamp", loyalty.CardTypeCashback: "cashback", loyalty.CardTypeMultipass: "subscription",
	loyalty.CardTypeCoupon: "coupon", loyalty.CardTypeDiscount: "discount", loyalty.CardTypeGift: "certificate",
	loyalty.CardTypeMembership: "membership", loyalty.CardTypeReward: "reward",
}

func (c *customer) view() map[string]any {
	var gender any
	if c.Gender != nil {
		gender = *c.Gender
	}
	var dob any
	if c.DateOfBirth != "" {
		dob = c.DateOfBirth
	}
	return map[string]any{"id": c.ID, "firstName": c.FirstName, "surname": orNil(c.Surname), "email": orNil(c.Email),
		"phone": orNil(c.Phone), "gender": gender, "dateOfBirth": dob, "externalUserId": orNil(c.ExternalUserID),
		"segments": []any{}, "createdAt": ts(c.CreatedAt), "updatedAt": tsp(c.UpdatedAt)}
}

func (tm *template) mechanicsView() any {
	switch tm.Type {
	case loyalty.CardTypeReward:
		return map[string]any{"program": map[string]any{"type": string(tm.Mechanics)}}
	case loyalty.CardTypeStamp:
		return map[string]any{"accrual": map[string]any{"type": string(tm.Mechanics), "stampsPerAccrual": 1}}
	}
	return nil
}

func (tm *template) tierView(mt MembershipTier) map[string]any {
	param := func(active bool, limit int, price float64) map[string]any {
		return map[string]any{"price": price, "limit": limit, "perFilialLimit": 0, "active": active, "recommended": false}
	}
	return map[string]any{"id": mt.ID, "templateId": tm.ID, "name": mt.Name, "description": nil, "benefits": []string{},
		"dailyParameters": param(false, 0, 0), "weeklyParameters": param(false, 0, 0),
		"monthlyParameters": param(true, mt.VisitLimit, mt.Price), "yearlyParameters": param(false, 0, 0)}
}

func (tm *template) rewardTierView(rt RewardTier) map[string]any {
	return map[string]any{"id": rt.ID, "templateId": tm.ID, "name": rt.Name, "type": tm.tierType[rt.ID],
		"threshold": rt.Threshold, "value": rt.Value, "valueLimit": rt.valueLimit, "usageLimit": rt.usageLimit}
}

func (tm *template) view() map[string]any {
	tiers := []any{}
	for _, mt := range tm.MembershipTiers {
		tiers = append(tiers, tm.tierView(mt))
	}
	rewards := []any{}
	for _, rt := range tm.rewardTiers {
		rewards = append(rewards, tm.rewardTierView(rt))
	}
	id, _ := tm.Type.ID()
	v := map[string]any{"id": tm.ID, "companyId": tm.CompanyID, "type": id, "name": tm.Name,
		"installLink":  fmt.Sprintf("https://wallet.example.com/getpass/%d", tm.ID),
		"qrLink":       fmt.Sprintf("https://wallet.example.com/qr/%d", tm.ID),
		"customFields": []any{}, "membershipTiers": tiers, "rewardTiers": rewards,
		"createdAt": ts(tm.CreatedAt), "updatedAt": nil}
	if m := tm.mechanicsView(); m != nil {
		v["mechanics"] = m
	}
	return v
}

func (tm *template) membershipTier(id int) *MembershipTier {
	for i := range tm.MembershipTiers {
		if tm.MembershipTiers[i].ID == id {
			return &tm.MembershipTiers[i]
		}
	}
	return nil
}

// balanceView is the balance block, with the members that matter for the card's type.
func (c *card) balanceView() map[string]any {
	b := map[string]any{"balance": nil, "bonusBalance": 0, "currentNumberOfUses": nil, "discountAmount": nil,
		"discountPercentage": nil, "numberRewardsUnused": nil, "numberStampsTotal": nil, "stampsBeforeReward": nil}
	switch c.tmpl.Type {
	case loyalty.CardTypeStamp:
		b["numberStampsTotal"], b["numberRewardsUnused"] = c.stamps, c.rewards
		b["stampsBeforeReward"] = c.tmpl.StampsPerReward - c.stamps
	case loyalty.CardTypeDiscount:
		b["balance"], b["discountPercentage"] = c.balance, c.tmpl.DiscountPercent
	case loyalty.CardTypeMultipass, loyalty.CardTypeMembership:
		b["balance"], b["currentNumberOfUses"] = c.balance, c.uses
	default:
		b["balance"] = c.balance
	}
	return b
}

// measure is the number the operations history shows as the balance after an action.
func (c *card) measure() int {
	if c.tmpl.Type == loyalty.CardTypeStamp {
		return c.stamps
	}
	return int(c.balance)
}

func (c *card) view() map[string]any {
	var tier, sub any
	if c.tmpl.Type == loyalty.CardTypeMembership {
		if mt := c.tmpl.membershipTier(c.tierID); mt != nil {
			tier = c.tmpl.tierView(*mt)
			sub = map[string]any{"id": c.tierID, "customerId": c.CustomerID, "cardId": c.ID, "templateId": c.tmpl.ID,
				"period": c.period, "status": 1, "membershipTierId": c.tierID, "balance": c.uses,
				"createdAt": c.CreatedAt.Unix(), "updatedAt": c.UpdatedAt.Unix(), "expiredAt": nil}
		}
	}
	rewards := []any{}
	for _, rt := range c.tmpl.rewardTiers {
		rewards = append(rewards, c.tmpl.rewardTierView(rt))
	}
	var redeemed any
	if c.tmpl.Type == loyalty.CardTypeCoupon {
		redeemed = c.couponRedeemed
	}
	link := func(kind string) string { return "https://wallet.example.com/installcard/" + c.ID + "/" + kind }
	fields := c.customFields
	if fields == nil {
		fields = []map[string]any{}
	}
	return map[string]any{
		"id": c.ID, "companyId": c.tmpl.CompanyID, "templateId": c.tmpl.ID, "customerId": c.CustomerID,
		"customer": c.cust.view(), "type": cardTypeNames[c.tmpl.Type], "device": nil, "status": c.Status,
		"balance": c.balanceView(), "customFields": fields, "availableRewardTiers": rewards,
		"membershipTier": tier, "customerSubscription": sub,
		"installLink":       fmt.Sprintf("https://wallet.example.com/getpass/%d/%s", c.tmpl.ID, strings.ReplaceAll(c.ID, "-", "")),
		"shareLink":         fmt.Sprintf("https://wallet.example.com/getpass/%d/%s/share/", c.tmpl.ID, strings.ReplaceAll(c.ID, "-", "")),
		"qrLink":            "https://wallet.example.com/qr/" + c.ID,
		"directInstallLink": map[string]any{"universal": link("universal"), "apple": link("apple"), "google": link("google"), "pwa": link("pwa")},
		"couponRedeemed":    redeemed, "utmSource": nil, "firstVisitDiscount": nil, "countVisits": c.visits,
		"totalRewardsEarned": c.earned, "totalRewardsRedeemed": c.redeemed,
		"totalStampsEarnedByReferral": 0, "totalPointsEarnedByReferral": 0,
		"lastStampEarnedAt": tsp(c.lastStamp), "lastRewardEarnedAt": tsp(c.lastEarned), "lastRewardRedeemedAt": tsp(c.lastRedeemed),
		"expiresAt": tsp(c.expiresAt), "createdAt": ts(c.CreatedAt), "updatedAt": ts(c.UpdatedAt),
	}
}

func (co *company) view() map[string]any {
	return map[string]any{"id": co.ID, "userId": co.UserID, "tariffId": co.TariffID, "name": co.Name, "email": orNil(co.Email),
		"phone": orNil(co.Phone), "note": nil, "status": co.Status, "apiKey": co.APIKey, "expiresAt": tsp(co.ExpiresAt),
		"createdAt": ts(co.CreatedAt), "updatedAt": tsp(co.UpdatedAt),
		"extra": map[string]any{"country": orNil(co.Country), "countryCode": orNil(co.Country), "fullAddress": nil, "street": nil,
			"city": nil, "state": nil, "stateCode": nil, "postalCode": nil, "timezone": nil, "website": nil}}
}

func (op *operation) view() map[string]any {
	return map[string]any{"id": op.ID, "companyId": op.card.tmpl.CompanyID, "templateId": op.card.tmpl.ID,
		"customerId": op.card.CustomerID, "customer": op.card.cust.view(), "cardId": op.card.ID, "cardDevice": nil,
		"eventId": op.EventID, "managerId": nil, "locationId": nil, "amount": op.Amount, "purchaseSum": op.PurchaseSum,
		"balance": op.Balance, "source": op.Source, "comment": orNil(op.Comment), "createdAt": ts(op.CreatedAt), "updatedAt": nil}
}

func (p *push) view() map[string]any {
	return map[string]any{"id": p.ID, "templateId": p.TemplateID, "cardId": orNil(p.CardID), "message": p.Message,
		"status": p.Status, "type": "manual", "sentAmount": p.Sent, "deliveredAmount": p.Sent,
		"createdAt": ts(p.CreatedAt), "scheduledAt": ts(p.ScheduledAt)}
}

func (t *tariff) view() map[string]any {
	var prices any
	if t.Prices != [3]float64{} {
		prices = map[string]any{"month": t.Prices[0], "quarter": t.Prices[1], "year": t.Prices[2]}
	}
	return map[string]any{"id": t.ID, "type": 1, "name": t.Name, "country": "US", "currency": "USD", "prices": prices,
		"limits": map[string]any{"templates": t.Limits[0], "locations": t.Limits[1], "managers": t.Limits[2], "integrations": t.Limits[3]},
		"options": map[string]any{"customFields": true, "duplicatesCheck": true, "reports": t.ID > 1, "push": t.ID > 1, "phoneCheck": false,
			"referralProgram": t.ID > 2, "integrations": t.ID > 1, "autoPush": false, "customAutoPush": false, "whiteLabel": t.ID > 2},
		"createdAt": "2025-01-01T00:00:00+00:00", "updatedAt": nil}
}

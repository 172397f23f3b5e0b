// The models name every field of the API's description.

package loyalty

import (
	"context"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
)

// jsonNames lists the JSON member names a struct decodes, embedded structs included.
func jsonNames(t reflect.Type) map[string]reflect.Type {
	names := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && tag == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			for k, v := range jsonNames(ft) {
				names[k] = v
			}
			continue
		}
		if tag != "" && tag != "-" {
			names[tag] = f.Type
		}
	}
	return names
}

// TestModelsNameEveryDocumentedField checks each model against its schema in the description:
// every documented property has a field with that JSON name, so nothing the API sends is
// dropped and no name is misspelt.
func TestModelsNameEveryDocumentedField(t *testing.T) {
	t.Parallel()
	s := loadSpec(t)
	models := map[string]any{
		"Card": Card{}, "CardBalance": CardBalance{}, "CustomField": CustomField{}, "DirectInstallLink": DirectInstallLink{},
		"CustomerSubscription": CustomerSubscription{}, "MembershipTier": MembershipTier{}, "MembershipTierPricing": MembershipTierPricing{},
		"RewardTierOutput": RewardTier{}, "CustomerOutput": Customer{}, "CustomerSegmentOutput": Segment{},
		"Company": Company{}, "CompanyExtraOutput": CompanyExtra{}, "CompanySsoLinkOutput": SSOLink{},
		"Tariff": Tariff{}, "TariffLimits": TariffLimits{}, "TariffOptions": TariffOptions{}, "TariffPrices": TariffPrices{},
		"Template": Template{}, "Push": Push{}, "SmsOutput": SentSMS{}, "Operation": Operation{},
		"RevenueStatsOutput": RevenueStats{}, "StatsByPeriodOutput": StatsPoint{},
		"ProfileOutput": Profile{}, "AgencyProfileOutput": AgencyProfile{},
		"TransactionOutput": Transaction{}, "TransactionResultOutput": TransactionResult{}, "ResolveCredentialsOutput": ResolvedCredentials{},
		// Requests: every documented member can be sent.
		"CreateCardInput": CardCreateRequest{}, "EditCardInput": CardUpdateRequest{},
		"CreateCustomerInput": CustomerCreateRequest{}, "EditCustomerInput": customerPatch{},
		"CreateCompanyInput": companyCreateBody{}, "EditCompanyInput": CompanyUpdateRequest{},
		"PushInput": PushSendRequest{}, "SmsInput": SMSSendRequest{}, "CreateRewardTierInput": RewardTierCreateRequest{},
		"EditProfileInput": ProfileUpdateRequest{}, "EditAgencyProfileInput": AgencyProfileUpdateRequest{},
		"AccrueInput": AccrueRequest{}, "ReverseInput": ReverseRequest{}, "ResolveCredentialsInput": ResolveCredentialsRequest{},
		"Check": Check{}, "Selection": Selection{},
		"CardAccrualAmountInput": amountBody{}, "CardAccrualPointInput": pointsBody{}, "CardPurchaseInput": purchaseBody{},
		"CardAccrualRewardInput": rewardsBody{}, "CardAccrualScoresInput": scoresBody{}, "CardAccrualStampInput": stampsBody{},
		"CardAccrualVisitInput": visitsBody{}, "CardReceiveRewardInput": receiveRewardBody{}, "CardAccrualInput": accrual{},
		"CardSetExpirationDateInput": expirationBody{}, "CardSetMembershipTierInput": membershipTierBody{},
	}
	schemas := s.doc["components"].(map[string]any)["schemas"].(map[string]any)
	for name, model := range models {
		schema, ok := schemas[name].(map[string]any)
		if !assert.True(t, ok, "no schema %s", name) {
			continue
		}
		have := jsonNames(reflect.TypeOf(model))
		var missing []string
		for prop := range schema["properties"].(map[string]any) {
			if _, ok := have[prop]; !ok {
				missing = append(missing, prop)
			}
		}
		sort.Strings(missing)
		assert.Empty(t, missing, "%s lacks documented fields", name)
		if strings.HasSuffix(name, "Input") || name == "Check" || name == "Selection" {
			for field := range have {
				_, documented := schema["properties"].(map[string]any)[field]
				assert.True(t, documented, "%s sends %q, which the description does not name", name, field)
			}
		}
	}
}

// The envelope's data member is found by structure: a "data" that is a value, or a member of
// another object, is not it, and an answer without it is a *DecodeError, never a zero card.
func TestDataMemberIsFoundByStructure(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	bodies := map[string]bool{ // body: decodes
		`{"code":200,"data":{"id":"1-2-3"}}`:              true,
		`{"code":200,"data" : {"id":"1-2-3"}}`:            true,
		`{"code":200,"metadata":1,"data":{"id":"1-2-3"}}`: true,
		`{"code":200,"d\u0061ta":{"id":"1-2-3"}}`:         true,
		`{"message":"data","data":null}`:                  false,
		`{"debug":{"data":1}}`:                            false,
		`{"code":200,"metadata":{"data":{"id":"1-2-3"}}}`: false,
		`{"code":200}`: false,
		`{"code":200,"responseId":"x","meta":{},"data":{"id":"1"}}`: true,
	}
	var mu sync.Mutex
	var body string
	ts.handle("GET /api/v2/cards/{id}", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		_, _ = w.Write([]byte(body))
	})
	for b, decodes := range bodies {
		mu.Lock()
		body = b
		mu.Unlock()
		card, _, err := c.Cards.Get(context.Background(), "1-2-3")
		if decodes {
			assert.NoError(t, err, b)
			continue
		}
		var decErr *DecodeError
		assert.ErrorAs(t, err, &decErr, b)
		assert.Nil(t, card, b)
	}
}

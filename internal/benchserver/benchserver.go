// Package benchserver answers the few endpoints the benchmarks call, with fixed bodies shaped
// like the API's, so that the SDK and its hand-written twins are measured against the same
// server, in the benchmark's process or (cmd/benchserver) in a process of its own.
package benchserver

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// TotalCards is how many cards the card list holds.
const TotalCards = 100_000

// card is testdata/card.json's data, the card every read and action answers.
const card = `{"id":"638920-251-210","companyId":154435,"templateId":955805,"customerId":"019b1df3-a306-739e-988b-50dbfedc2922","type":"stamp","device":"Apple Wallet","status":"installed","customer":{"id":"019b1df3-a306-739e-988b-50dbfedc2922","phone":"12135550142","email":"jane.doe@example.com","gender":2,"dateOfBirth":"1990-04-23","surname":"Doe","firstName":"Jane","externalUserId":"crm-77","segments":[{"id":12,"name":"Regulars","type":1}],"createdAt":"2025-12-14T17:41:04+00:00","updatedAt":"2025-12-14T17:41:12+00:00"},"balance":{"currentNumberOfUses":0,"numberStampsTotal":7,"numberRewardsUnused":1,"balance":null,"discountPercentage":null,"discountAmount":250,"bonusBalance":0,"stampsBeforeReward":3},"customFields":[{"id":4225123,"name":"First name","type":"FName","value":"Jane","order":1,"required":true,"unique":false}],"customerSubscription":{"id":91,"customerId":"019b1df3-a306-739e-988b-50dbfedc2922","cardId":20779267,"templateId":955805,"period":"month","status":1,"membershipTierId":null,"providerId":null,"externalId":null,"balance":4,"createdAt":1765734064,"updatedAt":1765734072,"expiredAt":null},"membershipTier":null,"availableRewardTiers":[{"id":31,"templateId":955805,"name":"Free coffee","type":0,"threshold":10,"value":1,"valueLimit":null,"usageLimit":null}],"installLink":"https://wallet.example-agency.com/getpass/955805/20779267","shareLink":"https://wallet.example-agency.com/getpass/955805/20779267/share/","qrLink":"https://wallet.example-agency.com/qr/955805/20779267","directInstallLink":{"universal":"https://wallet.example-agency.com/installcard/638920-251-210/universal","apple":"https://wallet.example-agency.com/installcard/638920-251-210/apple","google":"https://wallet.example-agency.com/installcard/638920-251-210/google","pwa":"https://wallet.example-agency.com/installcard/638920-251-210/pwa"},"couponRedeemed":null,"utmSource":"qr","firstVisitDiscount":null,"countVisits":9,"totalRewardsRedeemed":2,"totalRewardsEarned":3,"totalStampsEarnedByReferral":0,"totalPointsEarnedByReferral":0,"lastRewardRedeemedAt":"2026-01-02T10:00:00+00:00","lastRewardEarnedAt":"2026-01-01T12:01:00+00:00","lastStampEarnedAt":"2026-01-10 09:30:00","expiresAt":"2027-12-31T23:59:59+00:00","createdAt":"2025-12-14T17:41:04+00:00","updatedAt":"2026-01-10T09:30:00+00:00"}`

// customer is testdata/customer.json's data, the answer to a create.
const customer = `{"id":"019b1df3-a306-739e-988b-50dbfedc2922","phone":"12135550142","email":"jane.doe@example.com","gender":0,"dateOfBirth":"1990-04-23","surname":"Doe","firstName":"Jane","externalUserId":null,"segments":[],"createdAt":"2025-12-14T17:41:04+00:00","updatedAt":null}`

// Handler serves GET /api/v2/cards/{id}, POST /api/v2/cards/{id}/add-stamp, POST
// /api/v2/customers and GET /api/v2/cards (pages of TotalCards cards), each after latency.
func Handler(latency time.Duration) http.Handler {
	one := envelope(card, "")
	created := envelope(customer, "")
	mux := http.NewServeMux()
	wait := func() {
		if latency > 0 {
			time.Sleep(latency)
		}
	}
	mux.HandleFunc("GET /api/v2/cards/{id}", func(w http.ResponseWriter, r *http.Request) {
		wait()
		write(w, http.StatusOK, one)
	})
	mux.HandleFunc("POST /api/v2/cards/{id}/add-stamp", func(w http.ResponseWriter, r *http.Request) {
		wait()
		write(w, http.StatusOK, one)
	})
	mux.HandleFunc("POST /api/v2/customers", func(w http.ResponseWriter, r *http.Request) {
		wait()
		write(w, http.StatusCreated, created)
	})
	mux.HandleFunc("GET /api/v2/cards", func(w http.ResponseWriter, r *http.Request) {
		wait()
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		per, _ := strconv.Atoi(r.URL.Query().Get("itemsPerPage"))
		page, per = max(page, 1), min(max(per, 1), 1000)
		if r.URL.Query().Get("itemsPerPage") == "" {
			per = 30
		}
		var b bytes.Buffer
		b.WriteByte('[')
		for i := (page - 1) * per; i < min(page*per, TotalCards); i++ {
			if b.Len() > 1 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"id":"%06d-%03d-%03d","companyId":154435,"templateId":955805,"type":"stamp","status":"installed",`+
				`"balance":{"numberStampsTotal":%d,"numberRewardsUnused":0,"stampsBeforeReward":%d,"bonusBalance":0},`+
				`"createdAt":"2025-12-14T17:41:04+00:00","updatedAt":"2026-01-10T09:30:00+00:00"}`, i/1000, i%1000, i%997, i%10, 10-i%10)
		}
		b.WriteByte(']')
		meta := fmt.Sprintf(`{"currentPage":%d,"itemsPerPage":%d,"totalItems":%d}`, page, per, TotalCards)
		write(w, http.StatusOK, envelope(b.String(), meta))
	})
	return mux
}

func envelope(data, meta string) []byte {
	s := `{"code":200,"responseId":"019bae92-aaaa-7340-88bc-9e2f9d442689","createdAt":"2026-01-11T19:40:00+00:00","data":` + data
	if meta != "" {
		s += `,"meta":` + meta
	}
	return []byte(s + "}")
}

func write(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

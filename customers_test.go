package loyalty

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCustomersList(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	ts.reply("GET /api/v2/customers", http.StatusOK, "customers-list.json")

	customers, resp, err := c.Customers.List(context.Background(), &CustomerListOptions{
		Email: "jane.doe@example.com", Phone: "12135550142", ListOptions: ListOptions{ItemsPerPage: 1000},
	})
	require.NoError(t, err)
	assertRequest(t, ts.only(), "GET", "/api/v2/customers", "email=jane.doe%40example.com&itemsPerPage=1000&phone=12135550142", "")
	assert.Equal(t, &ListMeta{CurrentPage: 1, ItemsPerPage: 30, TotalItems: 2}, resp.Meta)
	require.Len(t, customers, 2)
	assert.Equal(t, "Jane", customers[0].FirstName)
	assert.Equal(t, GenderFemale, customers[0].Gender)
	assert.Equal(t, Customer{
		ID: "019b1df3-b111-739e-988b-50dbfedc2923", FirstName: "Omar", Email: "omar@example.com",
		Segments: []Segment{{ID: 3, Name: "VIP"}}, CreatedAt: Timestamp{Time: mustTime(t, "2025-12-15T08:00:00Z")},
	}, normalizeCustomer(customers[1]))
}

// normalizeCustomer puts times in UTC so that a struct comparison does not depend on how the
// offset was parsed.
func normalizeCustomer(c Customer) Customer {
	c.CreatedAt.Time = c.CreatedAt.UTC()
	c.UpdatedAt.Time = c.UpdatedAt.UTC()
	return c
}

func TestCustomersGet(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	ts.reply("GET /api/v2/customers/{id}", http.StatusOK, "customer.json")

	cust, resp, err := c.Customers.Get(context.Background(), "019b1df3-a306-739e-988b-50dbfedc2922")
	require.NoError(t, err)
	assertRequest(t, ts.only(), "GET", "/api/v2/customers/019b1df3-a306-739e-988b-50dbfedc2922", "", "")
	assert.Equal(t, "019bae92-cccc-7340-88bc-9e2f9d442689", resp.ResponseID)
	assert.Equal(t, "Doe", cust.Surname)
	assert.Equal(t, GenderUnknown, cust.Gender)
	assert.Equal(t, Date{1990, time.April, 23}, cust.DateOfBirth)
	assert.True(t, cust.UpdatedAt.IsZero(), "null updatedAt")
	assert.Empty(t, cust.Segments)
}

func TestCustomersCreate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		req  CustomerCreateRequest
		want string
	}{
		{"email only", CustomerCreateRequest{FirstName: "Jane", Email: "jane@example.com"},
			`{"firstName":"Jane","email":"jane@example.com"}`},
		{"phone only", CustomerCreateRequest{FirstName: "Jane", Phone: "12135550142"},
			`{"firstName":"Jane","phone":"12135550142"}`},
		{"gender unknown is sent, not dropped", CustomerCreateRequest{FirstName: "Jane", Phone: "1", Gender: Ptr(GenderUnknown)},
			`{"firstName":"Jane","phone":"1","gender":0}`},
		{"every field", CustomerCreateRequest{FirstName: "Jane", Surname: "Doe", Phone: "1", Email: "j@e.com",
			Gender: Ptr(GenderFemale), DateOfBirth: Date{1990, time.April, 3}, ExternalUserID: "crm-77"},
			`{"firstName":"Jane","surname":"Doe","phone":"1","email":"j@e.com","gender":2,"dateOfBirth":"1990-04-03","externalUserId":"crm-77"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, ts := setup(t)
			ts.reply("POST /api/v2/customers", http.StatusCreated, "customer.json")
			cust, _, err := c.Customers.Create(context.Background(), &tt.req)
			require.NoError(t, err)
			assertRequest(t, ts.only(), "POST", "/api/v2/customers", "", tt.want)
			assert.Equal(t, "019b1df3-a306-739e-988b-50dbfedc2922", cust.ID)
		})
	}
}

func TestCustomersCreateRefusals(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	tests := map[string]*CustomerCreateRequest{
		"nil":                     nil,
		"no first name":           {Email: "j@e.com"},
		"neither phone nor email": {FirstName: "Jane"},
		"gender out of range":     {FirstName: "Jane", Email: "j@e.com", Gender: Ptr(Gender(3))},
		"impossible date":         {FirstName: "Jane", Email: "j@e.com", DateOfBirth: Date{1990, time.February, 30}},
	}
	for name, req := range tests {
		_, _, err := c.Customers.Create(context.Background(), req)
		assert.ErrorIs(t, err, ErrInvalidArgument, name)
	}
	assert.Empty(t, ts.requests())
}

func TestCustomersUpdate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		req  *CustomerUpdateRequest
		want string
	}{
		{"clear surname, gender unknown", &CustomerUpdateRequest{Surname: Ptr(""), Gender: Ptr(GenderUnknown)},
			`{"id":"c-1","surname":"","gender":0}`},
		{"every field", &CustomerUpdateRequest{FirstName: Ptr("Jo"), Surname: Ptr("Doe"), Email: Ptr("jo@e.com"),
			Gender: Ptr(GenderMale), DateOfBirth: &Date{2001, time.December, 31}, ExternalUserID: Ptr("x9")},
			`{"id":"c-1","firstName":"Jo","surname":"Doe","email":"jo@e.com","gender":1,"dateOfBirth":"2001-12-31","externalUserId":"x9"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, ts := setup(t)
			ts.reply("PATCH /api/v2/customers/{id}", http.StatusOK, "customer.json")
			_, _, err := c.Customers.Update(context.Background(), "c-1", tt.req)
			require.NoError(t, err)
			assertRequest(t, ts.only(), "PATCH", "/api/v2/customers/c-1", "", tt.want)
		})
	}
}

func TestCustomersUpdateRefusals(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	ctx := context.Background()
	_, _, err := c.Customers.Update(ctx, "", &CustomerUpdateRequest{})
	assert.ErrorIs(t, err, ErrInvalidArgument)
	_, _, err = c.Customers.Update(ctx, "c-1", &CustomerUpdateRequest{FirstName: Ptr("")})
	assert.ErrorIs(t, err, ErrInvalidArgument)
	_, _, err = c.Customers.Update(ctx, "c-1", &CustomerUpdateRequest{Gender: Ptr(Gender(-1))})
	assert.ErrorIs(t, err, ErrInvalidArgument)
	assert.Empty(t, ts.requests())
}

func TestCustomersDelete(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	ts.reply("DELETE /api/v2/customers/{id}", http.StatusOK, "deleted-card.json")
	_, err := c.Customers.Delete(context.Background(), "019b1df3-a306-739e-988b-50dbfedc2922")
	require.NoError(t, err)
	assertRequest(t, ts.only(), "DELETE", "/api/v2/customers/019b1df3-a306-739e-988b-50dbfedc2922", "", "")
	_, err = c.Customers.Delete(context.Background(), "")
	assert.ErrorIs(t, err, ErrInvalidArgument)
}

func TestCustomersAll(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	ts.reply("GET /api/v2/customers", http.StatusOK, "customers-list.json")
	var names []string
	for cust, err := range c.Customers.All(context.Background(), &CustomerListOptions{Email: "x@y.z"}) {
		require.NoError(t, err)
		names = append(names, cust.FirstName)
	}
	assert.Equal(t, []string{"Jane", "Omar"}, names)
	assertRequest(t, ts.only(), "GET", "/api/v2/customers", "email=x%40y.z&page=1", "")
}

"""The five lines of the README's "Use it from your tests", as they are printed there."""


def test_renew(contract_mock):
    desk = contract_mock.client("zoho-desk")  # httpx.Client: base URL, token and orgId set
    response = desk.patch("/api/v1/contracts/10000000000001", json={"contractName": "Renewed"})
    assert response.status_code == 200
    assert contract_mock.admin.records("zoho-desk", "contracts")["10000000000001"]["contractName"] == "Renewed"

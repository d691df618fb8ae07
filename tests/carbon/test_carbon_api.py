"""The registry API: the whole job through /api/v1/carbon, 409 for pledged units, idempotent writes."""
from __future__ import annotations


from greenfin.carbon import services
from greenfin.extensions import db


def _project_body(owner, parcel, code="APITEST"):
    return {"code": code, "name": "接口测试林", "method": "CCER-14-001-V01", "owner_id": owner.id,
            "parcel_ids": [parcel.id], "crediting_start": "2020-01-01", "crediting_end": "2039-12-31",
            "buffer_share": "0.10", "documents": [{"title": "项目设计文件", "ref": "PDD-1"}]}


def test_register_report_approve_issue_transfer_through_the_api(api, create_party, create_parcel):
    admin, regulator = api("admin"), api("regulator")
    owner = create_party(kind="organisation", name="API村集体")
    parcel = create_parcel(holder_id=owner.id, land_cover="forest", cert_type="forest_rights")
    created = admin.post("/api/v1/carbon/projects", json=_project_body(owner, parcel))
    assert created.status_code == 201, created.get_json()
    project_id = created.get_json()["id"]
    report = admin.post(f"/api/v1/carbon/projects/{project_id}/reports",
                        json={"vintage": 2024, "verified_tonnes": "3000", "verifier": "中环联合", "document": "VR-1"})
    assert report.status_code == 201, report.get_json()
    report_id = report.get_json()["id"]
    assert admin.post(f"/api/v1/carbon/reports/{report_id}/issue").status_code == 409  # not approved yet
    assert admin.post(f"/api/v1/carbon/reports/{report_id}/decision", json={"approve": True}).status_code == 403
    assert regulator.post(f"/api/v1/carbon/reports/{report_id}/decision", json={"approve": True}).status_code == 200
    issued = admin.post(f"/api/v1/carbon/reports/{report_id}/issue")
    assert issued.status_code == 201 and issued.get_json()["issued_units"] == 2700
    block = admin.get(f"/api/v1/carbon/blocks?project_id={project_id}&state=available").get_json()[0]
    buyer = create_party(name="API买方公司")
    body = {"block_id": block["id"], "quantity": 100, "to_party_id": buyer.id, "unit_price": "15.00"}
    first = admin.post("/api/v1/carbon/transfers", json=body, headers={"Idempotency-Key": "api-transfer-1"})
    again = admin.post("/api/v1/carbon/transfers", json=body, headers={"Idempotency-Key": "api-transfer-1"})
    assert first.status_code == 201 and again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true" and again.get_json()["id"] == first.get_json()["id"]
    assert first.get_json()["amount"] == "1500.00"
    totals = admin.get("/api/v1/carbon/totals").get_json()
    row = next(r for r in totals if r["project_id"] == project_id)
    assert (row["issued"], row["available"], row["buffer"]) == (3000, 2700, 300)
    assert admin.get("/api/v1/carbon/verify").get_json()["ok"] is True


def test_transferring_or_retiring_a_pledged_unit_answers_409(api, issued_project, create_application, create_party):
    project, block, _buffer = issued_project()
    application = create_application(kind="carbon_pledge", party=project.owner, amount=100000)
    officer, admin = api("loan_officer"), api("admin")
    pledged = officer.post("/api/v1/carbon/pledges", json={"block_id": block.id, "quantity": 500,
                                                          "application_id": application.id})
    assert pledged.status_code == 201, pledged.get_json()
    entry = pledged.get_json()
    assert entry["reference_price"] == "72.00" and entry["price_source"] and entry["price_date"] == "2025-12-31"
    pledged_block = db.session.scalars(services.block_query(project_id=project.id, state="pledged")).one()
    buyer = create_party()
    transfer = admin.post("/api/v1/carbon/transfers", json={"block_id": pledged_block.id, "quantity": 1,
                                                            "to_party_id": buyer.id, "unit_price": "10"})
    assert transfer.status_code == 409 and transfer.get_json()["code"] == "units_pledged"
    retire = admin.post("/api/v1/carbon/retirements", json={"block_id": pledged_block.id, "quantity": 1,
                                                            "beneficiary": "某公司", "purpose": "抵消排放"})
    assert retire.status_code == 409 and retire.get_json()["code"] == "units_pledged"
    released = officer.post(f"/api/v1/carbon/blocks/{pledged_block.id}/release", json={"note": "已结清"})
    assert released.status_code == 201
    retire = admin.post("/api/v1/carbon/retirements", json={"block_id": pledged_block.id, "quantity": 1,
                                                            "beneficiary": "某公司", "purpose": "抵消排放"})
    assert retire.status_code == 201


def test_bad_input_names_each_field_and_stores_nothing(api, issued_project):
    project, block, _buffer = issued_project()
    before = project.entry_count
    response = api("admin").post("/api/v1/carbon/transfers", json={"block_id": block.id, "quantity": 10**9,
                                                                   "to_party_id": 999999, "unit_price": "abc"})
    assert response.status_code == 422
    assert {"to_party_id", "unit_price"} <= set(response.get_json()["errors"])
    db.session.refresh(project)
    assert project.entry_count == before


def test_a_producer_cannot_write_to_the_registry(api, issued_project):
    _project, block, _buffer = issued_project()
    response = api("producer").post("/api/v1/carbon/retirements", json={"block_id": block.id, "quantity": 1,
                                                                        "beneficiary": "x", "purpose": "y"})
    assert response.status_code == 403


def test_the_forest_cannot_back_a_forest_mortgage_and_a_carbon_pledge(issued_project, create_application, api):
    project, block, _buffer = issued_project()
    parcel_id = project.parcels[0].parcel_id
    mortgage = create_application(kind="forest_mortgage", party=project.owner, amount=100000)
    from greenfin.lending import services as lending

    lending.add_collateral(mortgage, {"parcel_id": parcel_id, "appraised_value": "900000"})
    db.session.commit()
    carbon_loan = create_application(kind="carbon_pledge", party=project.owner, amount=100000)
    response = api("loan_officer").post("/api/v1/carbon/pledges", json={"block_id": block.id, "quantity": 100,
                                                                        "application_id": carbon_loan.id})
    assert response.status_code == 409 and response.get_json()["code"] == "forest_pledged"
    assert mortgage.number in " ".join(response.get_json()["errors"]["block_id"])

from tests import factories


def test_home_renders_persian_rtl(client):
    factories.product(title="خرمای مضافتی")
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'dir="rtl"' in html and 'lang="fa"' in html
    assert "خرمای مضافتی" in html

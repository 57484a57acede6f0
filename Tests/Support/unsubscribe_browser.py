#!/usr/bin/env python3
"""Loads an unsubscribe page in headless Chromium (Selenium + Debian's chromedriver), checks it works without
JavaScript, presses its button (the default unsubscribe, or the choice named by the second argument: leave,
pause30, pause90), and prints JSON: the confirmation page's title and text, the final page's text, and any
console errors (a Content-Security-Policy violation would show there). A third argument saves a screenshot of
the confirmation page at 375 px wide."""
import json
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

url = sys.argv[1]
choice = sys.argv[2] if len(sys.argv) > 2 and sys.argv[2] else None
screenshot = sys.argv[3] if len(sys.argv) > 3 else None
options = webdriver.ChromeOptions()
for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
    options.add_argument(flag)
# JavaScript off: the page must work without it.
options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
try:
    driver.set_page_load_timeout(20)
    driver.get(url)
    result = {"title": driver.title, "before": driver.find_element(By.TAG_NAME, "body").text}
    if screenshot:
        driver.set_window_size(375, 900)
        driver.save_screenshot(screenshot)
    if choice:
        button = driver.find_element(By.XPATH, "//form[input[@name='choice' and @value='%s']]//button" % choice)
    else:
        button = driver.find_element(By.CSS_SELECTOR, "form button[type=submit]")
    button.click()
    # The form posts and the browser loads the answer: wait for the old page to go, then for the new one.
    WebDriverWait(driver, 15).until(expected_conditions.staleness_of(button))
    WebDriverWait(driver, 15).until(expected_conditions.presence_of_element_located((By.TAG_NAME, "h1")))
    result["after"] = driver.find_element(By.TAG_NAME, "body").text
    result["after_url"] = driver.current_url
    result["console"] = [entry["message"] for entry in driver.get_log("browser") if entry["level"] in ("SEVERE", "WARNING")]
    print(json.dumps(result))
finally:
    driver.quit()
